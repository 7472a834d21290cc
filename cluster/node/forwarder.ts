/**
 * Forwards a client request to the leader (any node accepts any request): over the peer streams
 * of a {@link ForwardChannel} when the request's route serves forwarded requests, else over
 * undici pools with keep-alive, one per peer. A request that never reached the leader is a definite failure; one
 * that failed after it was sent may have been applied, and says so (`definite: false`).
 *
 * Long polls (a blocking acquire) hold their connection for as long as they wait, so they get a
 * pool of their own per peer: however many of them wait, short requests find a connection in
 * theirs. A request's deadline covers its time queued for a connection too.
 */
import { Pool } from 'undici';
import type { ForwardChannel } from './forward-channel.js';
import { unavailable, type ServiceReply } from './reply.js';
import { neverSent } from '../api-errors.js';
import { errorMessage } from '../errors.js';
import { parseJsonReply } from '../json-reply.js';

/** Marks a forwarded request, so that the node it reaches does not forward it again. */
export const FORWARDED_HEADER = 'x-dsync-forwarded-by';

/** Connection budgets of a {@link Forwarder}, per peer. */
export interface ForwarderOptions {
  /** Connections for short requests. @default 128 */
  readonly connections?: number;
  /** Connections for long polls, apart from the short ones. @default 1024 */
  readonly longPollConnections?: number;
  /** Forwards over peer streams the requests whose routes serve forwarded requests. */
  readonly channel?: ForwardChannel;
}

/** What kind of request is forwarded: a long poll waits on the leader and uses its own pool. */
export type ForwardKind = 'short' | 'long-poll';

/** Forwards requests to peers by member id. */
export class Forwarder {
  readonly #pools = new Map<string, Record<ForwardKind, Pool>>();
  readonly #self: string;
  readonly #channel: ForwardChannel | undefined;

  constructor(addresses: ReadonlyMap<string, string>, self: string, o: ForwarderOptions = {}) {
    this.#self = self;
    this.#channel = o.channel;
    const pool = (address: string, connections: number): Pool => new Pool(`http://${address}`, { connections, keepAliveTimeout: 30_000, connectTimeout: 1_000 });
    for (const [id, address] of addresses) {
      if (id !== self) this.#pools.set(id, { short: pool(address, o.connections ?? 128), 'long-poll': pool(address, o.longPollConnections ?? 1024) });
    }
  }

  /** Sends the request to `to` and returns its reply; a 503 reply if it could not. */
  async forward(to: string, method: 'GET' | 'POST', path: string, body: Buffer | null, timeoutMs: number, kind: ForwardKind = 'short', clientGone?: AbortSignal): Promise<ServiceReply> {
    if (this.#channel?.canForward(method, path)) return this.#channel.call(to, method, path, body, timeoutMs, kind === 'long-poll', clientGone);
    const pool = this.#pools.get(to)?.[kind];
    if (!pool) return unavailable(`the leader ${to} is not a known peer`, to, true);
    // Also ends the wait for a free connection: undici's own timeouts start once it is sent.
    const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
    try {
      const res = await pool.request({
        // …and the client going away closes the forwarded request, so the leader cancels a long poll.
        signal: clientGone ? AbortSignal.any([deadline, clientGone]) : deadline,
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
    await Promise.all([...this.#pools.values()].flatMap((p) => [p.short, p['long-poll']]).map((p) => p.destroy().catch(() => undefined)));
  }
}
