/**
 * Lines of text to peers, each peer over one long-lived HTTP request (a chunked POST body of
 * newline-delimited JSON to `path`, authenticated by `peer-auth.ts`): what is written in one call
 * is one write on the socket. Fire and forget, in order per peer; the Raft transport
 * (`peer-stream.ts`) and request forwarding (`forward-channel.ts`) ride on it.
 *
 * If the peer is down the stream fails and is reopened on the next write; if the peer stops
 * reading (a partition that swallows packets), bytes pile up in the socket and past a bound the
 * stream is dropped and reopened, losing what was queued. `onStreamEnd` tells the owner which
 * stream ended and whether anything written to it may have reached the peer.
 */
import { PassThrough } from 'node:stream';
import { Client } from 'undici';
import { asError } from '../errors.js';
import { neverSent } from '../api-errors.js';
import { parseJsonReply } from '../json-reply.js';
import { peerHeaders } from './peer-auth.js';

/** Bytes written to a stream and not yet taken by the socket beyond which the stream is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** One stream to a peer, as {@link PeerLines.write} returns it: compare it with what `onStreamEnd` names. */
export type PeerStream = object;

/** Counters for /metrics. */
export interface PeerLineStats {
  /** Lines written. */
  sent: number;
  /** Lines dropped with a stream the peer did not read. */
  dropped: number;
  /** Streams opened. */
  requests: number;
  /** Streams that failed. */
  failures: number;
}

export interface PeerLinesOptions {
  /** Every member (this one may be among them): id → host:port. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly self: string;
  /** The cluster secret that signs each stream's challenge; `null` (`--insecure`) sends none. */
  readonly secret: Buffer | null;
  /** The peers' route that takes the stream. */
  readonly path: string;
  /** The first failure of a streak, per peer, for the log. */
  readonly onError?: (peer: string, error: Error) => void;
  /**
   * A stream ended: `error` null when it ended cleanly (closed); `reached` false when nothing
   * written to it can have reached the peer (it never connected).
   */
  readonly onStreamEnd?: (peer: string, stream: PeerStream, error: Error | null, reached: boolean) => void;
}

interface Link {
  readonly client: Client;
  body: PassThrough | null;
  /** Failures in a row, for the log (only the first of a streak is reported). */
  failures: number;
}

/** Writes lines to peers over streams. */
export class PeerLines {
  readonly #links = new Map<string, Link>();
  readonly #o: PeerLinesOptions;
  #closed = false;
  readonly stats: PeerLineStats = { sent: 0, dropped: 0, requests: 0, failures: 0 };

  constructor(o: PeerLinesOptions) {
    this.#o = o;
    for (const [id, address] of o.addresses) {
      if (id === o.self) continue;
      // No timeouts on the request itself: it lasts as long as the connection.
      const client = new Client(`http://${address}`, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connectTimeout: 1_000, keepAliveTimeout: 30_000 });
      this.#links.set(id, { client, body: null, failures: 0 });
    }
  }

  /** Whether `peer` is one this writes to. */
  has(peer: string): boolean {
    return this.#links.has(peer);
  }

  /**
   * Writes `lines` (each without its newline) to `peer` as one write; returns the stream they went
   * to, or null if they were dropped (unknown peer, closed, or a peer that stopped reading).
   */
  write(peer: string, lines: readonly string[]): PeerStream | null {
    const link = this.#links.get(peer);
    if (this.#closed || !link || lines.length === 0) return null;
    const body = link.body ?? this.#open(peer, link);
    if (body.writableLength > MAX_BUFFERED_BYTES) {
      // The peer is not reading: start afresh rather than buffer without bound.
      this.stats.dropped += lines.length;
      body.destroy(new Error(`${peer} stopped reading: over ${MAX_BUFFERED_BYTES} bytes queued`));
      link.body = null;
      return null;
    }
    body.write(`${lines.join('\n')}\n`);
    this.stats.sent += lines.length;
    return body;
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
    // Set once the request is under way: before that, nothing written can have reached the peer.
    let requested = false;
    // What is written meanwhile waits in `body` (bounded by MAX_BUFFERED_BYTES in write()).
    this.#challenge(link)
      .then((nonce) => {
        requested = true;
        return link.client.request({
          method: 'POST',
          path: this.#o.path,
          headers: { 'content-type': 'application/x-ndjson', ...peerHeaders(this.#o.secret, this.#o.self, peer, nonce) },
          body,
        });
      })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      })
      .then(
        () => {
          link.failures = 0;
          this.#o.onStreamEnd?.(peer, body, null, true);
        },
        (e: unknown) => {
          this.stats.failures++;
          const err = asError(e);
          if (link.failures++ === 0 && !this.#closed) this.#o.onError?.(peer, err);
          this.#o.onStreamEnd?.(peer, body, err, requested && !neverSent(e));
        },
      )
      .finally(() => {
        if (link.body === body) link.body = null;
        body.destroy();
      });
    return body;
  }

  /** A nonce from the peer to sign (none without a secret). */
  async #challenge(link: Link): Promise<string | null> {
    if (this.#o.secret === null) return null;
    const res = await link.client.request({ method: 'GET', path: '/internal/raft/challenge' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`challenge: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    const nonce = parseJsonReply(res.statusCode, text, `the peer's challenge`).body['nonce'];
    if (typeof nonce !== 'string') throw new Error(`challenge: no nonce in ${text.slice(0, 100)}`);
    return nonce;
  }
}
