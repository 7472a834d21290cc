/**
 * Raft messages to peers as one long-lived HTTP request per peer (`POST /internal/raft/stream`,
 * newline-delimited JSON, chunked; the streams themselves are `peer-lines.ts`): a batch of
 * messages is one write on the sender and one read on the receiver, with no answer per batch —
 * half the syscalls of a request per batch, which is what a 2-core machine running three nodes
 * runs out of first. Fire and forget, in order per peer; what a dropped stream loses, Raft resends.
 *
 * Each stream is authenticated (`peer-auth.ts`): before opening it the sender fetches a
 * challenge from the peer and signs it with the cluster secret. A message whose JSON line would
 * be longer than {@link MAX_PEER_LINE_CHARS} (a big snapshot) travels as several `part` lines
 * that the receiver joins again, so that no line on the wire is longer than that.
 */
import type { Message } from '../raft/types.js';
import type { RaftTransport } from '../raft/raft-node.js';
import { PeerLines, type PeerLineStats } from './peer-lines.js';

/** The stream route of the node's own Raft group. */
export const RAFT_STREAM_PATH = '/internal/raft/stream';
/** The stream routes of the services' Raft groups: this prefix and the group's name (`raft-group.ts`). */
export const GROUP_STREAM_PREFIX = '/internal/raft/group/';

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

/** Appends to `lines` the lines that carry `json` ({@link wireLines}); nearly every message fits one line, and then no array is made for it. */
export function pushWireLines(lines: string[], json: string): void {
  if (json.length <= PART_CHARS) lines.push(json);
  else lines.push(...wireLines(json));
}

/** Sends Raft messages to the peers in `addresses` (member id → host:port) over streams. */
export class PeerStreamTransport implements RaftTransport {
  readonly #lines: PeerLines;
  #closed = false;

  /**
   * @param secret the cluster secret that signs each stream's challenge; `null` (`--insecure`) sends none
   * @param path the peers' stream route: the node's Raft group's, or a service group's (`raft-group.ts`)
   */
  constructor(addresses: ReadonlyMap<string, string>, self: string, secret: Buffer | null, onError: (peer: string, error: Error) => void = () => undefined, path = RAFT_STREAM_PATH) {
    this.#lines = new PeerLines({ addresses, self, secret, path, onError });
  }

  /** Counters for /metrics. */
  get stats(): PeerLineStats {
    return this.#lines.stats;
  }

  send(messages: readonly Message[]): void {
    if (this.#closed || messages.length === 0) return;
    const byPeer = new Map<string, string[]>();
    for (const m of messages) {
      if (!this.#lines.has(m.to)) continue;
      let lines = byPeer.get(m.to);
      if (!lines) byPeer.set(m.to, (lines = []));
      pushWireLines(lines, JSON.stringify(m));
    }
    for (const [peer, lines] of byPeer) this.#lines.write(peer, lines);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#lines.close();
  }
}
