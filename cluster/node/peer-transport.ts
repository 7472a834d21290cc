/**
 * Raft messages to peers over HTTP (`POST /internal/raft/messages`, a JSON array), with undici
 * keep-alive connections: one connection per peer with up to MAX_IN_FLIGHT pipelined requests (HTTP/1.1
 * keeps them in order); whatever is sent while the pipeline is full is queued and goes in the
 * next request, so a busy link batches by itself.
 * Fire and forget: a failed request's messages are dropped (Raft resends what matters).
 */
import { Client } from 'undici';
import type { Message } from '../raft/types.js';
import type { RaftTransport } from '../raft/raft-node.js';

/**
 * Requests in flight per peer, pipelined in order on one keep-alive connection. 1 batches best;
 * 2 and 4 were tried (`dsync bench lock`) and gave nothing clear on a 2-core machine.
 */
const MAX_IN_FLIGHT = 1;

/** The most messages queued for one peer; beyond it the oldest are dropped. */
const MAX_QUEUED = 10_000;

interface Link {
  readonly client: Client;
  queue: Message[];
  /** Requests sent and not yet answered. */
  inFlight: number;
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
        pipelining: MAX_IN_FLIGHT,
        keepAliveTimeout: 30_000,
        headersTimeout: 2_000,
        bodyTimeout: 2_000,
        connectTimeout: 1_000,
      });
      this.#links.set(id, { client, queue: [], inFlight: 0, failures: 0 });
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
    for (const [peer, link] of this.#links) if (link.queue.length > 0) this.#flush(peer, link);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#links.values()].map((l) => l.client.destroy().catch(() => undefined)));
  }

  /** Sends what is queued, up to {@link MAX_IN_FLIGHT} requests at once on the link's one connection. */
  #flush(peer: string, link: Link): void {
    while (link.queue.length > 0 && link.inFlight < MAX_IN_FLIGHT && !this.#closed) {
      const batch = link.queue;
      link.queue = [];
      link.inFlight++;
      this.stats.requests++;
      void this.#post(peer, link, batch).finally(() => {
        link.inFlight--;
        if (link.queue.length > 0) this.#flush(peer, link);
      });
    }
  }

  async #post(peer: string, link: Link, batch: Message[]): Promise<void> {
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
      this.stats.dropped += link.queue.length;
      link.queue = [];
    }
  }
}
