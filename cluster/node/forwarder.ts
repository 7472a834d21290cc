/**
 * Forwards a client request to the leader (any node accepts any request). undici pools with
 * keep-alive, one per peer. A request that never reached the leader is a definite failure; one
 * that failed after it was sent may have been applied, and says so (`definite: false`).
 */
import { Pool } from 'undici';
import { unavailable, type ServiceReply } from './reply.js';
import { neverSent } from '../api-errors.js';
import { errorMessage } from '../errors.js';
import { parseJsonReply } from '../json-reply.js';

/** Marks a forwarded request, so that the node it reaches does not forward it again. */
export const FORWARDED_HEADER = 'x-dsync-forwarded-by';

/** Forwards requests to peers by member id. */
export class Forwarder {
  readonly #pools = new Map<string, Pool>();
  readonly #self: string;

  constructor(addresses: ReadonlyMap<string, string>, self: string) {
    this.#self = self;
    for (const [id, address] of addresses) {
      if (id !== self) this.#pools.set(id, new Pool(`http://${address}`, { connections: 128, keepAliveTimeout: 30_000, connectTimeout: 1_000 }));
    }
  }

  /** Sends the request to `to` and returns its reply; a 503 reply if it could not. */
  async forward(to: string, method: 'GET' | 'POST', path: string, body: Buffer | null, timeoutMs: number): Promise<ServiceReply> {
    const pool = this.#pools.get(to);
    if (!pool) return unavailable(`the leader ${to} is not a known peer`, to, true);
    try {
      const res = await pool.request({
        method,
        path,
        headers: { 'content-type': 'application/json', [FORWARDED_HEADER]: this.#self },
        body: body ?? undefined,
        headersTimeout: Math.max(1, timeoutMs),
        bodyTimeout: Math.max(1, timeoutMs),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: parseJsonReply(res.statusCode, text, `the leader ${to}`).body };
    } catch (e) {
      return unavailable(`forwarding to the leader ${to} failed: ${errorMessage(e)}`, to, neverSent(e));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.destroy().catch(() => undefined)));
  }
}
