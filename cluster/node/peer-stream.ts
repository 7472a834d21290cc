/**
 * Raft messages to peers as one long-lived HTTP request per peer (`POST /internal/raft/stream`,
 * newline-delimited JSON, chunked): a batch of messages is one write on the sender and one read
 * on the receiver, with no answer per batch — half the syscalls of a request per batch, which is
 * what a 2-core machine running three nodes runs out of first.
 *
 * Fire and forget, in order per peer. If the peer is down the stream fails and is reopened on
 * the next send; if the peer stops reading (a partition that swallows packets), bytes pile up in
 * the socket and past a bound the stream is dropped and reopened, losing what was queued (Raft
 * resends what matters).
 */
import { PassThrough } from 'node:stream';
import { Client } from 'undici';
import type { Message } from '../raft/types.js';
import type { RaftTransport } from '../raft/raft-node.js';
import { asError } from '../errors.js';

/** Bytes written to a stream and not yet taken by the socket beyond which the stream is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

interface Link {
  readonly client: Client;
  body: PassThrough | null;
  /** Failures in a row, for the log (only the first of a streak is reported). */
  failures: number;
}

/** Sends Raft messages to the peers in `addresses` (member id → host:port) over streams. */
export class PeerStreamTransport implements RaftTransport {
  readonly #links = new Map<string, Link>();
  readonly #self: string;
  readonly #onError: (peer: string, error: Error) => void;
  #closed = false;
  /** Counters for /metrics. */
  readonly stats = { sent: 0, dropped: 0, requests: 0, failures: 0 };

  constructor(addresses: ReadonlyMap<string, string>, self: string, onError: (peer: string, error: Error) => void = () => undefined) {
    this.#self = self;
    this.#onError = onError;
    for (const [id, address] of addresses) {
      if (id === self) continue;
      // No timeouts on the request itself: it lasts as long as the connection.
      const client = new Client(`http://${address}`, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connectTimeout: 1_000, keepAliveTimeout: 30_000 });
      this.#links.set(id, { client, body: null, failures: 0 });
    }
  }

  send(messages: readonly Message[]): void {
    if (this.#closed || messages.length === 0) return;
    const byPeer = new Map<string, string[]>();
    for (const m of messages) {
      if (!this.#links.has(m.to)) continue;
      let lines = byPeer.get(m.to);
      if (!lines) byPeer.set(m.to, (lines = []));
      lines.push(JSON.stringify(m));
    }
    for (const [peer, lines] of byPeer) {
      const link = this.#links.get(peer) as Link;
      const body = link.body ?? this.#open(peer, link);
      if (body.writableLength > MAX_BUFFERED_BYTES) {
        // The peer is not reading: start afresh rather than buffer without bound.
        this.stats.dropped += lines.length;
        body.destroy();
        link.body = null;
        continue;
      }
      body.write(`${lines.join('\n')}\n`);
      this.stats.sent += lines.length;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const link of this.#links.values()) link.body?.end();
    await Promise.all([...this.#links.values()].map((l) => l.client.destroy().catch(() => undefined)));
  }

  #open(peer: string, link: Link): PassThrough {
    const body = new PassThrough();
    link.body = body;
    this.stats.requests++;
    link.client
      .request({ method: 'POST', path: '/internal/raft/stream', headers: { 'content-type': 'application/x-ndjson', 'x-dsync-from': this.#self }, body })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
      })
      .then(
        () => {
          link.failures = 0;
        },
        (e: unknown) => {
          this.stats.failures++;
          if (link.failures++ === 0 && !this.#closed) this.#onError(peer, asError(e));
        },
      )
      .finally(() => {
        if (link.body === body) link.body = null;
        body.destroy();
      });
    return body;
  }
}
