/**
 * The cache workload: client processes read keys (zipfian by default, so some keys are hot and
 * copies are shared), write unique values and sometimes delete, each op on a random node; a share
 * of ops sample the key's MESI state (`GET /cache/{key}/state`) as ops of their own, so the
 * coherence invariants are judged from the history like everything else.
 *
 * Checked per key as a linearizable read/write register (Jepsen independent tuples, `register`
 * model, a delete being a write of nil), by `mesi` over the samples and by `lost-writes`, which
 * names acknowledged writes a later read proves lost (`checkers/cache.ts`).
 *
 * RPCs: `GET /cache/{key}` → 200 `{value, state, hit}` | 404 (no value: read nil);
 * `PUT /cache/{key} {value}` → 200; `DELETE /cache/{key}` → 200; `GET /cache/{key}/state` → 200
 * the sample; 503 `unavailable` (with `definite`) when the key's home or a holder cannot be
 * reached in time. Reads are retried on another random node until the op's deadline; a write only
 * while its attempts surely failed (after one that may have taken effect it is `info`).
 *
 * Ops: `read` `[key nil]` → ok `[key value]`; `write` `[key v]` (v a fresh integer, or nil for
 * a delete) → ok with the same value; `state` `[key nil]` → ok `[key sample]`.
 */
import { z } from 'zod';
import { linearizableChecker, lostWritesChecker, mesiChecker, withoutOps, type Op } from '../checkers/index.js';
import { keyName, nextFloat, sampleKey, seedRand } from '../harness/index.js';
import type { Completion, GenContext, GenResult, Generator, KeyDistribution, Rand } from '../harness/index.js';
import { HttpClient } from './http-client.js';
import { defineWorkload, type Client, type Workload, type WorkloadContext } from './workload.js';

/** The `workload:` section of an experiment for `name: cache`. */
export const cacheWorkloadSchema = z
  .object({
    name: z.literal('cache'),
    /** How many keys (`k1` … `kN`) and how ops pick one. */
    keys: z
      .object({
        count: z.number().int().min(1).max(100_000).default(8),
        distribution: z.enum(['uniform', 'zipfian', 'hot']).default('zipfian'),
        exponent: z.number().positive().default(1),
        hotFraction: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    /** Share of ops that read. */
    readFraction: z.number().min(0).max(1).default(0.6),
    /** Share of ops that delete. */
    deleteFraction: z.number().min(0).max(1).default(0.05),
    /** Share of ops that sample the key's line states (the `mesi` checker's input). */
    stateFraction: z.number().min(0).max(1).default(0.05),
    /** An op's deadline over all its attempts; past it the op is `info` (or `fail` if every attempt surely failed). */
    opTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
    /** One HTTP attempt's deadline for a write (which may wait out a cut-off holder's lease). */
    attemptTimeoutMs: z.number().int().min(50).max(120_000).default(4000),
    /**
     * One attempt's deadline for a read or a sample: a node cut off from a key's home answers a
     * hit at once but a miss only when its request times out — so give up early and ask another
     * node, rather than leave the client process stuck while the rest of the run goes on.
     */
    readAttemptTimeoutMs: z.number().int().min(50).max(120_000).default(1000),
  })
  .strict()
  .refine((o) => o.readFraction + o.deleteFraction + o.stateFraction <= 1, { message: 'readFraction + deleteFraction + stateFraction must be at most 1 (the rest are writes)', path: ['readFraction'] });

/** The cache workload's options, defaults filled in. */
export type CacheWorkloadOptions = z.output<typeof cacheWorkloadSchema>;

const distribution = (k: CacheWorkloadOptions['keys']): KeyDistribution =>
  k.distribution === 'uniform' ? { kind: 'uniform', count: k.count } : k.distribution === 'zipfian' ? { kind: 'zipfian', count: k.count, exponent: k.exponent } : { kind: 'hot', count: k.count, hotFraction: k.hotFraction };

interface GenState {
  readonly rand: Rand;
  readonly keys: KeyDistribution;
  readonly read: number;
  readonly del: number;
  readonly state: number;
  /** Writes per op after the other shares (1 − the rest; 0 in the final phase). */
  readonly writes: boolean;
  /** The next value written. */
  readonly next: number;
}

function gen(s: GenState): Generator {
  return {
    op(ctx: GenContext): GenResult {
      const process = ctx.free.find((p) => typeof p === 'number');
      if (process === undefined) return 'pending';
      const [k, r0] = sampleKey(s.keys, s.rand);
      const [w, r1] = nextFloat(r0);
      const key = keyName('k', k);
      const next = { ...s, rand: r1 };
      const scale = s.writes ? 1 : s.read + s.state;
      const x = w * scale;
      if (x < s.read) return { op: { f: 'read', value: [key, null], process }, gen: gen(next) };
      if (x < s.read + s.state) return { op: { f: 'state', value: [key, null], process }, gen: gen(next) };
      if (x < s.read + s.state + s.del) return { op: { f: 'write', value: [key, null], process }, gen: gen(next) };
      return { op: { f: 'write', value: [key, s.next], process }, gen: gen({ ...next, next: s.next + 1 }) };
    },
    update(): Generator {
      return this;
    },
  };
}

/**
 * The cache op generator: endless, pure. With `writes` false (the final phase) only reads and
 * samples. Values written are 1, 2, 3, … in generation order (`firstValue` onward).
 */
export function cacheGenerator(o: Pick<CacheWorkloadOptions, 'keys' | 'readFraction' | 'deleteFraction' | 'stateFraction'>, seed: number, writes = true, firstValue = 1): Generator {
  return gen({ rand: seedRand(seed), keys: distribution(o.keys), read: o.readFraction, del: o.deleteFraction, state: o.stateFraction, writes, next: firstValue });
}

/** The cache client of every process. */
export class CacheClient implements Client {
  readonly #http: HttpClient;
  readonly #readAttemptMs: number;

  constructor(endpoints: ReadonlyMap<string, string>, o: CacheWorkloadOptions, seed: number) {
    if (endpoints.size === 0) throw new RangeError('cache client: no endpoints');
    this.#http = new HttpClient(endpoints, { seed, timeoutMs: o.opTimeoutMs, attemptTimeoutMs: o.attemptTimeoutMs });
    this.#readAttemptMs = o.readAttemptTimeoutMs;
  }

  async invoke(op: Op): Promise<Completion> {
    const t = Array.isArray(op.value) ? (op.value as unknown[]) : [];
    const key = t[0];
    if (typeof key !== 'string') throw new TypeError(`cache client: op ${op.index} has no [key value] tuple: ${JSON.stringify(op.value)}`);
    const path = `/cache/${encodeURIComponent(key)}`;
    switch (op.f) {
      case 'read': {
        const r = await this.#http.request({ method: 'GET', path, attemptTimeoutMs: this.#readAttemptMs });
        const node = r.node ?? '';
        if (r.outcome === 'ok') return { type: 'ok', value: [key, r.body?.['value'] ?? null], node, ...(r.body?.['hit'] === true ? { hit: true } : {}) };
        if (r.outcome === 'fail' && r.error === 'not-found') return { type: 'ok', value: [key, null], node };
        return { type: r.outcome, value: [key, null], error: r.error, node };
      }
      case 'write': {
        const v = t[1] ?? null;
        // Not retried once an attempt may have taken effect: a second application, later, would
        // write the value again after newer ones (no exactly-once sessions in the cache API).
        const r = await this.#http.request({ method: v === null ? 'DELETE' : 'PUT', path, ...(v === null ? {} : { body: { value: v } }), retryIndefinite: false });
        return { type: r.outcome, value: [key, v], node: r.node ?? '', ...(r.outcome === 'ok' ? {} : { error: r.error }) };
      }
      case 'state': {
        const r = await this.#http.request({ method: 'GET', path: `${path}/state`, attemptTimeoutMs: this.#readAttemptMs });
        const node = r.node ?? '';
        if (r.outcome === 'ok') return { type: 'ok', value: [key, r.body], node };
        // A sample changes nothing: a failed or unknown one is simply not a sample.
        return { type: 'fail', value: [key, null], error: r.error, node };
      }
      default:
        throw new TypeError(`cache client: unknown op f "${op.f}"`);
    }
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The cache workload over nodes reachable at `endpoints`. */
export function cacheWorkload(o: CacheWorkloadOptions, ctx: WorkloadContext): Workload {
  const pct = (x: number): number => Math.round(x * 100);
  return {
    name: 'cache',
    client: new CacheClient(ctx.endpoints, o, ctx.seed),
    generator: cacheGenerator(o, ctx.seed),
    // After the heal: reads of every key, so that a write lost while the nodes were cut off shows.
    finalGenerator: cacheGenerator({ ...o, keys: { ...o.keys, distribution: 'uniform' } }, ctx.seed + 1, false),
    checker: withoutOps(linearizableChecker('register', { independent: true }), ['state']),
    moreCheckers: [mesiChecker(), lostWritesChecker()],
    describe: `cache: ${o.keys.count} keys (${o.keys.distribution}), ${pct(o.readFraction)} % reads, ${pct(1 - o.readFraction - o.deleteFraction - o.stateFraction)} % writes of unique values, ${pct(o.deleteFraction)} % deletes, ${pct(o.stateFraction)} % MESI state samples; checked per key as a linearizable register, with the MESI invariants and lost writes`,
  };
}

/** The cache workload's entry in the registry (`workloads/index.ts`). */
export const cacheWorkloadDefinition = defineWorkload(cacheWorkloadSchema, cacheWorkload);
