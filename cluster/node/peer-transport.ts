/**
 * Raft messages to peers over HTTP (`POST /internal/raft/messages`, a JSON array), with undici
 * keep-alive connections. One request in flight per peer; whatever is sent meanwhile is queued
 * and goes in the next request, so a busy link batches by itself and messages stay in order.
 * Fire and forget: a failed request's messages are dropped (Raft resends what matters).
 */
import { Client } from 'undici';
import type { Message } from '../raft/types.js';
import type { RaftTransport } from '../raft/raft-node.js';

/** The most messages queued for one peer; beyond it the oldest are dropped. */
const MAX_QUEUED = 10_000;

interface Link {
  readonly client: Client;
  queue: Message[];
  busy: boolean;
  /** Failures in a row, for the log (only the first of a streak is reported). */
  failures: number;
}

/** Sends Raft messages to the peers in `addresses` (member id → host:port). */
export class PeerTransport implements RaftTransport {
  readonly #links = new Map<string, Link>();
  readonly #onError: (peer: string, error: Error) => void;
  #closed = false;
  /** Counters for /metrics. */
  readonly stats = { sent: 0, dropped: 0, requests: 0, failures: 0 };

  constructor(addresses: ReadonlyMap<string, string>, self: string, onError: (peer: string, error: Error) => void = () => undefined) {
    this.#onError = onError;
    for (const [id, address] of addresses) {
      if (id === self) continue;
      const client = new Client(`http://${address}`, {
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: 2_000,
        bodyTimeout: 2_000,
        connectTimeout: 1_000,
      });
      this.#links.set(id, { client, queue: [], busy: false, failures: 0 });
    }
  }

  send(messages: readonly Message[]): void {
    if (this.#closed) return;
    for (const m of messages) {
      const link = this.#links.get(m.to);
      if (!link) continue;
      link.queue.push(m);
      if (link.queue.length > MAX_QUEUED) {
        link.queue.shift();
        this.stats.dropped++;
      }
    }
    for (const [peer, link] of this.#links) if (link.queue.length > 0 && !link.busy) void this.#flush(peer, link);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#links.values()].map((l) => l.client.destroy().catch(() => undefined)));
  }

  async #flush(peer: string, link: Link): Promise<void> {
    link.busy = true;
    try {
      while (link.queue.length > 0 && !this.#closed) {
        const batch = link.queue;
        link.queue = [];
        this.stats.requests++;
        try {
          const res = await link.client.request({
            method: 'POST',
            path: '/internal/raft/messages',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          await res.body.dump();
          if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
          this.stats.sent += batch.length;
          link.failures = 0;
        } catch (e) {
          this.stats.failures++;
          this.stats.dropped += batch.length;
          if (link.failures++ === 0 && !this.#closed) this.#onError(peer, e instanceof Error ? e : new Error(String(e)));
          // Don't spin on a dead peer: drop what queued meanwhile too; the next send retries.
          link.queue = [];
        }
      }
    } finally {
      link.busy = false;
    }
  }
}
