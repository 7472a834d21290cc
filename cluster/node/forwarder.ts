/**
 * Forwards a client request to the leader (any node accepts any request). undici pools with
 * keep-alive, one per peer. A request that never reached the leader is a definite failure; one
 * that failed after it was sent may have been applied, and says so (`definite: false`).
 */
import { Pool, errors } from 'undici';
import { unavailable, type ServiceReply } from './reply.js';
import { errorMessage } from '../errors.js';

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
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { error: 'bad-gateway', message: `the leader ${to} answered HTTP ${res.statusCode} with a body that is not JSON` };
      }
      const obj = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
      return { status: res.statusCode, body: obj };
    } catch (e) {
      const sent = !(e instanceof errors.ConnectTimeoutError) && !isRefused(e);
      const why = errorMessage(e);
      return unavailable(`forwarding to the leader ${to} failed: ${why}`, to, !sent);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.destroy().catch(() => undefined)));
  }
}

function isRefused(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}
