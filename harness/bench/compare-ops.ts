/**
 * The op of each service in `dsync bench compare`, as a user's client would do it over HTTP
 * (keep-alive, one undici Pool per node): op `seq` starts at node `seq mod n`, and moves on to the
 * next node when the request surely had no effect — its connection was never made (a dead node),
 * or the node answered a *definite* 5xx (no leader yet, no quorum) — until the op expires (its deadline passed).
 * Anything else fails the op: a client cannot know whether it took effect.
 *
 * - lock: acquire a lock of the op's own (`cmp-<seq>`, exclusive, try-acquire) and release it —
 *   one acquire+release pair, uncontended;
 * - queue: enqueue a message (id `cmp-<run>-<seq>`) on one of 16 queues, then dequeue one from
 *   that queue (long poll ≤ 1 s) and ack it — a message through the queue and out;
 * - cache: a read (90 %) or a write (10 %) of one of 512 keys, chosen from the seed and `seq`.
 */
import type { Dispatcher, Pool } from 'undici';
import { isDefinite, neverSent } from '../../cluster/api-errors.js';
import { mulberry32 } from '../random.js';
import type { CompareService } from './compare-results.js';
import type { OpenLoopOp } from './open-loop.js';

/** Queues the queue op spreads over. */
export const COMPARE_QUEUES = 16;
/** Keys the cache op reads and writes. */
export const COMPARE_KEYS = 512;
/** Share of the cache ops that write. */
export const COMPARE_WRITE_SHARE = 0.1;
/** Pause before trying every node again when each refused: 25 ms, doubling each round up to 400 ms (a down cluster is not flooded with reconnects). */
const ROUND_PAUSE_MS = 25;
const MAX_ROUND_PAUSE_MS = 400;

/** An answer: status and parsed JSON body (undefined when empty). */
interface Reply {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
}

/** Thrown for an answer that is not ok, with what a retry needs to know. */
export class OpError extends Error {
  constructor(
    message: string,
    /** The request surely had no effect: another node may be tried. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function request(pool: Pool, method: Dispatcher.HttpMethod, path: string, body: unknown, expired: () => boolean): Promise<Reply> {
  if (expired()) throw new OpError(`${method} ${path}: the op's deadline passed`, false);
  let res: Dispatcher.ResponseData;
  try {
    // An op the run no longer counts ends by the pool's timeouts (no per-request abort signal:
    // thousands of requests listening to one signal make each removal a walk of its list).
    res = await pool.request({ method, path, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  } catch (e) {
    throw new OpError(`${method} ${path}: ${(e as Error).message}`, neverSent(e) && !expired());
  }
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  if (text !== '') {
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new OpError(`${method} ${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 120)}`, false);
    }
  }
  return { status: res.statusCode, json };
}

/** `reply` when its status is one of `ok`; else an {@link OpError} saying whether it may be retried elsewhere. */
function expect(what: string, reply: Reply, ...ok: number[]): Reply {
  if (ok.includes(reply.status)) return reply;
  const retryable = reply.status >= 500 && isDefinite(reply.status, reply.json ?? {});
  throw new OpError(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.json ?? {}).slice(0, 200)}`, retryable);
}

/**
 * Runs `step` against node `first`, then the next nodes in turn while it fails retryably, until
 * it succeeds, fails for good, or the op expires (then the last error is thrown).
 */
export async function onSomeNode<T>(pools: readonly Pool[], first: number, expired: () => boolean, step: (pool: Pool) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const pool = pools[(first + attempt) % pools.length] as Pool;
    try {
      return await step(pool);
    } catch (e) {
      if (!(e instanceof OpError) || !e.retryable || expired()) throw e;
    }
    if ((attempt + 1) % pools.length === 0) {
      const round = (attempt + 1) / pools.length;
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(MAX_ROUND_PAUSE_MS, ROUND_PAUSE_MS * 2 ** (round - 1))));
      if (expired()) throw new OpError('the op deadline passed while every node refused', false);
    }
  }
}

/** The lock op: acquire `cmp-<seq>` (try-acquire) and release it. */
function lockOp(pools: readonly Pool[], run: string): OpenLoopOp {
  return async (seq, expired) => {
    const name = `cmp-${run}-${seq}`;
    const client = `cmp-${seq % 256}`;
    const grant = await onSomeNode(pools, seq, expired, async (pool) => expect('acquire', await request(pool, 'POST', '/lock/acquire', { name, client, mode: 'exclusive', ttlMs: 10_000, waitMs: 0 }, expired), 200));
    const { token, secret } = grant.json ?? {};
    await onSomeNode(pools, seq, expired, async (pool) => expect('release', await request(pool, 'POST', '/lock/release', { name, client, token, secret }, expired), 200));
  };
}

/** The queue op: enqueue one message, dequeue one from the same queue and ack it. */
function queueOp(pools: readonly Pool[], run: string): OpenLoopOp {
  return async (seq, expired) => {
    const at = (op: string): string => `/queue/cmp-${seq % COMPARE_QUEUES}/${op}`;
    const id = `cmp-${run}-${seq}`;
    await onSomeNode(pools, seq, expired, async (pool) => expect('enqueue', await request(pool, 'POST', at('enqueue'), { message: id, id }, expired), 200));
    const got = await onSomeNode(pools, seq, expired, async (pool) => expect('dequeue', await request(pool, 'POST', at('dequeue'), { visibilityMs: 30_000, waitMs: 1000 }, expired), 200, 204));
    if (got.status === 204) throw new OpError('dequeue: nothing to deliver within 1 s after an enqueue', false);
    const receipt = got.json?.['receipt'];
    await onSomeNode(pools, seq, expired, async (pool) => expect('ack', await request(pool, 'POST', at('ack'), { receipt }, expired), 200));
  };
}

/** The cache op: a read or (one in ten) a write of one of {@link COMPARE_KEYS} keys. */
function cacheOp(pools: readonly Pool[], seed: number): OpenLoopOp {
  return async (seq, expired) => {
    const [u] = mulberry32((seed ^ Math.imul(seq + 1, 0x9e3779b1)) >>> 0);
    const key = `cmp-${u % COMPARE_KEYS}`;
    const path = `/cache/${key}`;
    if ((u >>> 16) / 65536 < COMPARE_WRITE_SHARE) {
      await onSomeNode(pools, seq, expired, async (pool) => expect('write', await request(pool, 'PUT', path, { value: `v${seq}` }, expired), 200));
    } else {
      await onSomeNode(pools, seq, expired, async (pool) => expect('read', await request(pool, 'GET', path, undefined, expired), 200, 404));
    }
  };
}

/**
 * The op of `service` over `pools` (one per node, in node order). `run` makes names unique to
 * this run (locks, message ids); `seed` picks the cache's keys.
 */
export function serviceOp(service: CompareService, pools: readonly Pool[], run: string, seed: number): OpenLoopOp {
  if (pools.length === 0) throw new RangeError('serviceOp: no node to send to');
  switch (service) {
    case 'lock':
      return lockOp(pools, run);
    case 'queue':
      return queueOp(pools, run);
    case 'cache':
      return cacheOp(pools, seed);
  }
}
