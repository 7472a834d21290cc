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
 *
 * Each stream is authenticated (`peer-auth.ts`): before opening it the sender fetches a
 * challenge from the peer and signs it with the cluster secret. A message whose JSON line would
 * be longer than {@link MAX_PEER_LINE_CHARS} (a big snapshot) travels as several `part` lines
 * that the receiver joins again, so that no line on the wire is longer than that.
 */
import { PassThrough } from 'node:stream';
import { Client } from 'undici';
import type { Message } from '../raft/types.js';
import type { RaftTransport } from '../raft/raft-node.js';
import { asError } from '../errors.js';
import { parseJsonReply } from '../json-reply.js';
import { peerHeaders } from './peer-auth.js';

/** The stream route of the node's own Raft group. */
export const RAFT_STREAM_PATH = '/internal/raft/stream';
/** The stream routes of the services' Raft groups: this prefix and the group's name (`raft-group.ts`). */
export const GROUP_STREAM_PREFIX = '/internal/raft/group/';

/** Bytes written to a stream and not yet taken by the socket beyond which the stream is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** The longest line a receiver accepts on a peer stream, in characters (4 MiB). */
export const MAX_PEER_LINE_CHARS = 4 * 1024 * 1024;
/** The longest message a receiver joins from `part` lines, in characters (256 MiB). */
export const MAX_PEER_MESSAGE_CHARS = 256 * 1024 * 1024;
/** Characters of a long message's JSON per `part` line (escaped, at most twice as long). */
const PART_CHARS = 1024 * 1024;

/**
 * The lines that carry one message's JSON text: itself, or when it is longer than a line may be,
 * `{"type":"part","data":<a piece>}` lines, the last with `"last":true`.
 */
export function wireLines(json: string, partChars = PART_CHARS): string[] {
  if (json.length <= partChars) return [json];
  const lines: string[] = [];
  for (let at = 0; at < json.length; at += partChars) {
    const last = at + partChars >= json.length;
    lines.push(JSON.stringify({ type: 'part', data: json.slice(at, at + partChars), ...(last ? { last: true } : {}) }));
  }
  return lines;
}

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
  readonly #secret: Buffer | null;
  readonly #onError: (peer: string, error: Error) => void;
  readonly #path: string;
  #closed = false;
  /** Counters for /metrics. */
  readonly stats = { sent: 0, dropped: 0, requests: 0, failures: 0 };

  /**
   * @param secret the cluster secret that signs each stream's challenge; `null` (`--insecure`) sends none
   * @param path the peers' stream route: the node's Raft group's, or a service group's (`raft-group.ts`)
   */
  constructor(addresses: ReadonlyMap<string, string>, self: string, secret: Buffer | null, onError: (peer: string, error: Error) => void = () => undefined, path = RAFT_STREAM_PATH) {
    this.#self = self;
    this.#path = path;
    this.#secret = secret;
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
      const json = JSON.stringify(m);
      // Nearly every message fits one line: no array per message for it.
      if (json.length <= PART_CHARS) lines.push(json);
      else lines.push(...wireLines(json));
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
    // What is written meanwhile waits in `body` (bounded by MAX_BUFFERED_BYTES in send()).
    this.#challenge(link)
      .then((nonce) =>
        link.client.request({
          method: 'POST',
          path: this.#path,
          headers: { 'content-type': 'application/x-ndjson', ...peerHeaders(this.#secret, this.#self, peer, nonce) },
          body,
        }),
      )
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
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

  /** A nonce from the peer to sign (none without a secret). */
  async #challenge(link: Link): Promise<string | null> {
    if (this.#secret === null) return null;
    const res = await link.client.request({ method: 'GET', path: '/internal/raft/challenge' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`challenge: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    const nonce = parseJsonReply(res.statusCode, text, `the peer's challenge`).body['nonce'];
    if (typeof nonce !== 'string') throw new Error(`challenge: no nonce in ${text.slice(0, 100)}`);
    return nonce;
  }
}
