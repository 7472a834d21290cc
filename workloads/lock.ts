/**
 * The lock workload: client processes acquire (exclusive or shared) and release named locks on
 * random nodes, and the history is checked with the `fenced-lock` model per lock (Jepsen
 * independent tuples `[lock value]`), and with `fencing-tokens` across locks (tokens unique and
 * increasing in real-time order, `checkers/fencing-checker.ts`).
 *
 * RPCs: `POST /lock/acquire {name, client, mode, ttlMs, waitMs, session, seq}` → 200
 * `{token, secret}` | 409 | 503; `POST /lock/release {name, client, token, secret, session, seq}` → 200 | 403 | 409;
 * `POST /lock/renew {name, client, token, secret, ttlMs, session, seq}` → 200 | 403 | 409; `GET /lock/{name}` →
 * 200 `{holders: [{client, token}, ...]}` (a linearizable read).
 *
 * Ops: invoke `{f: "acquire" | "acquire-shared", value: ["l1", null]}` → ok `["l1", 17]` (17 is
 * the fencing token) or fail; invoke `{f: "release" | "renew", value: ["l1", 17]}` → ok or fail;
 * invoke `{f: "read", value: ["l1", null]}` → ok `["l1", [[3, 17], [5, 18]]]`: the holders as
 * `[process token]` pairs sorted by process (the client `p3` is process 3). A share
 * `readFraction` of ops are reads of a random key; otherwise a process that holds a lock renews it
 * (a share `renewFraction` of the time) or releases it, and any other process acquires a key drawn
 * from the key distribution. Each client process is one lock client (`p<process>`) and one exactly-once
 * session: an attempt that times out or is refused for want of a quorum is retried with the same
 * session and sequence number on another random node until the op's deadline, so a retry never
 * applies twice. A definite refusal is `fail`; an op whose effect stays unknown is `info`.
 *
 * Leases: `fenced-lock` knows nothing of lease expiry, so leases are given a TTL longer than the
 * whole run ({@link resolveLockTtl}): every lock is freed by a release in the history, never by
 * expiry. With `leases`, the TTL may be short: the history is checked with `lease-lock`, which
 * judges expiry by the ops' times, and a share of holders keep their lock past the TTL before
 * releasing it, so that leases do expire.
 */
import { z } from 'zod';
import { fencingTokensChecker, linearizableChecker, type LeaseParams, type Op, type ProcessId } from '../checkers/index.js';
import { keyName, nextFloat, sampleKey, seedRand } from '../harness/index.js';
import type { Completion, Generator, GenContext, GenResult, KeyDistribution, Rand } from '../harness/index.js';
import { HttpClient } from './http-client.js';
import { defineWorkload, type Client, type Workload, type WorkloadContext, type WorkloadFacts, type WorkloadIssue } from './workload.js';

/** The `workload:` section of an experiment for `name: lock`. */
export const lockWorkloadSchema = z
  .object({
    name: z.literal('lock'),
    /** How many locks (`l1` … `lN`) and how ops pick one. */
    keys: z
      .object({
        count: z.number().int().min(1).max(100_000).default(10),
        distribution: z.enum(['uniform', 'zipfian', 'hot']).default('uniform'),
        /** Zipf exponent (zipfian). */
        exponent: z.number().positive().default(1),
        /** Share of ops on `l1` (hot). */
        hotFraction: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    /** Share of acquires in shared mode (`acquire-shared`); 0 = exclusive only. */
    sharedFraction: z.number().min(0).max(1).default(0),
    /** Lease TTL; default: longer than the whole run, which it must outlive unless `leases` is set (then 2000). */
    ttlMs: z.number().int().positive().optional(),
    /** Share of ops that read a random lock (`GET /lock/{name}`, checked against the model). */
    readFraction: z.number().min(0).max(1).default(0.2),
    /** Share of a holder's other ops that renew its lease (`POST /lock/renew`) instead of releasing. */
    renewFraction: z.number().min(0).max(0.9).default(0.1),
    /** Short leases that expire during the run, checked with `lease-lock`; absent: leases outlive the run. */
    leases: z
      .object({
        /** How far a node's clock rate may be off (0.01 = 1 %): a lease surely lasts ttl·(1 − drift) from its acquire's invocation. */
        driftBound: z.number().min(0).max(0.5).default(0.01),
        /** If set, a lease surely has ended this long after ttl·(1 + drift) past its grant's completion; absent: no upper bound. */
        expiryGraceMs: z.number().min(0).optional(),
        /** Share of grants whose holder keeps the lock `holdMs` before releasing it. */
        holdFraction: z.number().min(0).max(1).default(0.2),
        /** How long those holders keep the lock, ms; default: twice the TTL. */
        holdMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** How long an acquire waits in the queue for a held lock; 0 = try-acquire. */
    waitMs: z.number().int().min(0).max(60_000).default(0),
    /** An op's deadline, over all its attempts; past it the op is `info` (or `fail` if every attempt surely failed). */
    opTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** One HTTP attempt's deadline. */
    attemptTimeoutMs: z.number().int().min(50).max(120_000).default(2000),
  })
  .strict();

/** The lock workload's options, defaults filled in. */
export type LockWorkloadOptions = z.output<typeof lockWorkloadSchema>;

/** The TTL of short leases (`workload.leases`) when `ttlMs` is not given. */
export const DEFAULT_LEASE_TTL_MS = 2000;

/** Why `o.ttlMs` does not fit a run lasting `runS` seconds, or null when it does (see {@link resolveLockTtl}). */
function ttlProblem(o: LockWorkloadOptions, runS: number): string | null {
  if (o.leases !== undefined || o.ttlMs === undefined) return null;
  const needed = Math.ceil((runS + 60) * 1000);
  if (o.ttlMs >= needed) return null;
  return `${o.ttlMs} ms would let leases expire during the run (it lasts up to ${runS} s; at least ${needed} ms is needed), and fenced-lock does not model expiry (set workload.leases to check with lease-lock)`;
}

/**
 * The lease TTL for a run lasting `runS` seconds: the configured one, which must outlive the run
 * (plus a minute of margin for teardown), or one that does.
 * @throws RangeError naming `workload.ttlMs` when the configured TTL is too short (an experiment
 *   refuses this at load time already: {@link lockWorkloadIssues}).
 */
export function resolveLockTtl(o: LockWorkloadOptions, runS: number): number {
  if (o.leases !== undefined) return o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const problem = ttlProblem(o, runS);
  if (problem !== null) throw new RangeError(`workload.ttlMs: ${problem}`);
  return o.ttlMs ?? Math.ceil((runS + 60) * 1000);
}

/** The lock section's problems with the rest of the experiment, found before any node starts. */
export function lockWorkloadIssues(o: LockWorkloadOptions, facts: WorkloadFacts): WorkloadIssue[] {
  const problem = ttlProblem(o, facts.runS);
  return problem === null ? [] : [{ path: ['ttlMs'], message: problem }];
}

// ——— the generator ———

interface Held {
  readonly key: string;
  readonly token: number;
  /** When (ns since the run started) the holder may release; 0: on its next op. */
  readonly until: number;
}

interface LockGenState {
  readonly rand: Rand;
  readonly held: ReadonlyMap<ProcessId, Held>;
  readonly keys: KeyDistribution;
  readonly sharedFraction: number;
  readonly readFraction: number;
  readonly renewFraction: number;
  /** Share of grants kept `holdNs` before release (0 without leases). */
  readonly holdFraction: number;
  readonly holdNs: number;
}

function lockGen(s: LockGenState): Generator {
  return {
    op(ctx: GenContext): GenResult {
      const process = ctx.free.find((p) => typeof p === 'number' && (s.held.get(p)?.until ?? 0) <= ctx.time);
      if (process === undefined) return 'pending';
      const held = s.held.get(process);
      const [w, r0] = nextFloat(s.rand);
      if (w < s.readFraction) {
        const [k, r1] = sampleKey(s.keys, r0);
        return { op: { f: 'read', value: [keyName('l', k), null], process }, gen: lockGen({ ...s, rand: r1 }) };
      }
      if (held) {
        const [y, r1] = nextFloat(r0);
        const f = y < s.renewFraction ? 'renew' : 'release';
        return { op: { f, value: [held.key, held.token], process }, gen: lockGen({ ...s, rand: r1 }) };
      }
      const [k, r1] = sampleKey(s.keys, r0);
      const [x, r2] = nextFloat(r1);
      const f = x < s.sharedFraction ? 'acquire-shared' : 'acquire';
      return { op: { f, value: [keyName('l', k), null], process }, gen: lockGen({ ...s, rand: r2 }) };
    },
    update(ctx: GenContext, e: Op): Generator {
      if (typeof e.process !== 'number' || e.type === 'invoke') return this;
      const tuple = Array.isArray(e.value) ? (e.value as unknown[]) : [];
      let held: Map<ProcessId, Held> | undefined;
      if (e.type === 'ok' && (e.f === 'acquire' || e.f === 'acquire-shared') && typeof tuple[0] === 'string' && typeof tuple[1] === 'number') {
        let until = 0;
        let rand = s.rand;
        if (s.holdFraction > 0) {
          const [x, r] = nextFloat(rand);
          rand = r;
          if (x < s.holdFraction) until = ctx.time + s.holdNs;
        }
        return lockGen({ ...s, rand, held: new Map(s.held).set(e.process, { key: tuple[0], token: tuple[1], until }) });
      } else if ((e.f === 'release' || e.type === 'info') && s.held.has(e.process)) {
        // A release ends the holding whatever its outcome (a failed release: not held anyway);
        // an info retires the process, and its successor holds nothing.
        held = new Map(s.held);
        held.delete(e.process);
      }
      return held ? lockGen({ ...s, held }) : this;
    },
  };
}

/**
 * The lock op generator: endless, pure; a free process reads a random key (`readFraction`), or
 * else renews (`renewFraction`) or releases the lock it holds, or acquires a random key. It tracks
 * holdings from the events it is given, so a copy given every event of an earlier phase continues
 * where that phase left off.
 */
export function lockGenerator(o: Pick<LockWorkloadOptions, 'keys' | 'sharedFraction' | 'readFraction' | 'renewFraction'> & Partial<Pick<LockWorkloadOptions, 'leases' | 'ttlMs'>>, seed: number): Generator {
  const keys: KeyDistribution =
    o.keys.distribution === 'uniform'
      ? { kind: 'uniform', count: o.keys.count }
      : o.keys.distribution === 'zipfian'
        ? { kind: 'zipfian', count: o.keys.count, exponent: o.keys.exponent }
        : { kind: 'hot', count: o.keys.count, hotFraction: o.keys.hotFraction };
  const holdMs = o.leases?.holdMs ?? 2 * (o.ttlMs ?? DEFAULT_LEASE_TTL_MS);
  return lockGen({ rand: seedRand(seed), held: new Map(), keys, sharedFraction: o.sharedFraction, readFraction: o.readFraction, renewFraction: o.renewFraction, holdFraction: o.leases?.holdFraction ?? 0, holdNs: holdMs * 1e6 });
}

// ——— the client ———

/** The lock client of every process: one {@link HttpClient}, one exactly-once session per process. */
export class LockClient implements Client {
  readonly #o: LockWorkloadOptions;
  readonly #ttlMs: number;
  readonly #http: HttpClient;
  /**
   * Each grant's secret (the proof of ownership release and renew must show), by fencing token:
   * client-side only, never in the history, so the checkers do not depend on it.
   */
  readonly #secrets = new Map<number, string>();

  /** `endpoints`: node id → base URL. */
  constructor(endpoints: ReadonlyMap<string, string>, o: LockWorkloadOptions, ttlMs: number, seed: number) {
    if (endpoints.size === 0) throw new RangeError('lock client: no endpoints');
    this.#o = o;
    this.#ttlMs = ttlMs;
    // A blocking acquire may wait waitMs on the node before it is answered.
    this.#http = new HttpClient(endpoints, { seed, timeoutMs: o.opTimeoutMs + o.waitMs, attemptTimeoutMs: o.attemptTimeoutMs + o.waitMs });
  }

  async invoke(op: Op): Promise<Completion> {
    const tuple = Array.isArray(op.value) ? (op.value as unknown[]) : [];
    const name = tuple[0];
    if (typeof name !== 'string') throw new TypeError(`lock client: op ${op.index} has no [lock value] tuple: ${JSON.stringify(op.value)}`);
    const client = `p${op.process}`;
    if (op.f === 'read') return this.#read(name);
    let path: string;
    let body: Record<string, unknown>;
    switch (op.f) {
      case 'acquire':
      case 'acquire-shared':
        path = '/lock/acquire';
        body = { name, client, mode: op.f === 'acquire' ? 'exclusive' : 'shared', ttlMs: this.#ttlMs, waitMs: this.#o.waitMs };
        break;
      case 'release':
        path = '/lock/release';
        body = { name, client, token: tuple[1], ...this.#secretOf(tuple[1]) };
        break;
      case 'renew':
        path = '/lock/renew';
        body = { name, client, token: tuple[1], ttlMs: this.#ttlMs, ...this.#secretOf(tuple[1]) };
        break;
      default:
        throw new TypeError(`lock client: unknown op f "${op.f}"`);
    }
    // The HTTP client adds the session and its next seq to the body, the same on every retry.
    const r = await this.#http.request({ method: 'POST', path, body, session: client });
    const node = r.node ?? '';
    if (r.outcome === 'ok') {
      const token = op.f === 'release' || op.f === 'renew' ? tuple[1] : r.body?.['token'];
      if (typeof token !== 'number') throw new TypeError(`lock client: ${node} granted ${name} without a token: ${JSON.stringify(r.body)}`);
      const secret = r.body?.['secret'];
      if (op.f === 'release') this.#secrets.delete(token);
      else if (typeof secret === 'string') this.#secrets.set(token, secret);
      return { type: 'ok', value: [name, token], node };
    }
    // A release or renew that surely failed (not-held: the lease ended) leaves nothing to prove.
    if (r.outcome === 'fail' && (op.f === 'release' || op.f === 'renew') && typeof tuple[1] === 'number') this.#secrets.delete(tuple[1]);
    return { type: r.outcome, value: [name, tuple[1] ?? null], error: r.error, node };
  }

  /** `{secret}` of the grant with `token`, when this client was answered with one. */
  #secretOf(token: unknown): { secret?: string } {
    const secret = typeof token === 'number' ? this.#secrets.get(token) : undefined;
    return secret === undefined ? {} : { secret };
  }

  /** `GET /lock/{name}`: ok with the holders as sorted `[process token]` pairs. */
  async #read(name: string): Promise<Completion> {
    const r = await this.#http.request({ method: 'GET', path: `/lock/${encodeURIComponent(name)}`, timeoutMs: this.#o.opTimeoutMs, attemptTimeoutMs: this.#o.attemptTimeoutMs });
    const node = r.node ?? '';
    if (r.outcome !== 'ok') return { type: r.outcome, value: [name, null], error: r.error, node };
    const holders = r.body?.['holders'];
    if (!Array.isArray(holders)) throw new TypeError(`lock client: ${node} answered a read of ${name} without holders: ${JSON.stringify(r.body)}`);
    const pairs = holders.map((h: unknown): [ProcessId, number] => {
      const { client, token } = (h ?? {}) as { client?: unknown; token?: unknown };
      if (typeof client !== 'string' || typeof token !== 'number') throw new TypeError(`lock client: ${node} answered a read of ${name} with a malformed holder: ${JSON.stringify(h)}`);
      return [processOfClient(client), token];
    });
    pairs.sort((a, b) => compareProcess(a[0], b[0]) || a[1] - b[1]);
    return { type: 'ok', value: [name, pairs], node };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The process of a lock client this workload named (`p3` → 3); any other name as it is. */
export function processOfClient(client: string): ProcessId {
  const m = /^p(0|[1-9]\d{0,14})$/.exec(client);
  return m ? Number(m[1]) : client;
}

const compareProcess = (a: ProcessId, b: ProcessId): number =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

/** The `lease-lock` model's parameters for a run with `workload.leases`. */
function leaseModelParams(o: LockWorkloadOptions, ttlMs: number): LeaseParams {
  const l = o.leases;
  return { ttlMs, driftBound: l?.driftBound ?? 0.01, ...(l?.expiryGraceMs !== undefined ? { expiryGraceMs: l.expiryGraceMs } : {}) };
}

/** The describe line's words on leases. */
function describeLeases(o: LockWorkloadOptions, ttlMs: number): string {
  const l = o.leases;
  if (!l) return `leases of ${ttlMs} ms (longer than the run: no lock is freed by expiry)`;
  const bound = l.expiryGraceMs === undefined ? 'no upper bound on expiry' : `surely ended ${l.expiryGraceMs} ms after ttl·(1 + drift)`;
  return `leases of ${ttlMs} ms that expire, checked with lease-lock (drift ${l.driftBound}, ${bound}); ${Math.round(l.holdFraction * 100)} % of holders keep the lock ${l.holdMs ?? 2 * ttlMs} ms`;
}

/** The lock workload over nodes reachable at `endpoints`, for a run lasting `runS` seconds. */
export function lockWorkload(o: LockWorkloadOptions, ctx: WorkloadContext): Workload {
  const ttlMs = resolveLockTtl(o, ctx.runS);
  return {
    name: 'lock',
    client: new LockClient(ctx.endpoints, o, ttlMs, ctx.seed),
    generator: lockGenerator(o, ctx.seed),
    finalGenerator: lockGenerator(o, ctx.seed + 1),
    checker: o.leases ? linearizableChecker('lease-lock', { independent: true, initial: leaseModelParams(o, ttlMs) }) : linearizableChecker('fenced-lock', { independent: true }),
    moreCheckers: [fencingTokensChecker()],
    describe: `lock: ${o.keys.count} locks (${o.keys.distribution}), ${Math.round(o.sharedFraction * 100)} % shared acquires, ${Math.round(o.readFraction * 100)} % reads, ${Math.round(o.renewFraction * 100)} % of a holder's ops renewals, ${describeLeases(o, ttlMs)}, waitMs ${o.waitMs}, exactly-once retries until ${o.opTimeoutMs} ms`,
  };
}

/** The lock workload's entry in the registry (`workloads/index.ts`). */
export const lockWorkloadDefinition = defineWorkload(lockWorkloadSchema, lockWorkload, lockWorkloadIssues);
