/**
 * `lease-lock`: a `fenced-lock` whose grants are leases that may end by themselves, judged by the
 * ops' real times (`time`, ns since the run started).
 *
 * A lease granted by an acquire invoked at `call` and completed at `ret` (ms) surely has not ended
 * before `call + ttl·(1 − drift)` — the leader counts the TTL from when it proposed the grant, at
 * or after `call`, on a clock whose rate is off by at most `drift` — and, only when
 * `expiryGraceMs` is set, surely has ended by `ret + ttl·(1 + drift) + expiryGraceMs`. An ok
 * renew moves both bounds as a new grant would (from the renew's own `call` and `ret`).
 *
 * Each op is linearized at the earliest time it can be: no earlier than its invocation or the
 * previous op's point (the state's `now`), and no later than its completion. Expiry is decided
 * lazily: a holder stays until an op needs it gone. A conflicting grant (or a grant to the holder
 * itself again), or a read that does not list the holder, ends the lease — which moves the op's
 * point to at least the lease's `lo`, and must still fit before the op's completion. A release,
 * a renew, and a read that lists the holder need it still there and their point before its `hi`.
 * Ending a lease only when it is in the way, and each op as early as it can be, never rules out a
 * history that other choices allow (later points and more expiries only constrain more), so the
 * model accepts exactly the histories in which some real-time order of points and some expiry
 * times within the bounds explain every result.
 *
 * Without `expiryGraceMs` there is no upper bound: the lock service ends leases by `tick` entries,
 * which need a quorum, and a new leader may apply a retried release before its first tick — a
 * release that succeeds long after the TTL is the service's documented behaviour, not a bug.
 *
 * The lease parameters are the model's initial value (`--initial '{:ttl-ms 1500 :drift-bound
 * 0.01}'`, or `{ttlMs, driftBound, expiryGraceMs}` from code), so that the registry model — which
 * search workers look up by name — serves every TTL. Ops are those of `fenced-lock` plus `:renew
 * token` and `:read → [[process token] ...]`.
 */
import { defineModel, ModelConfigError, ModelInputError, type Model } from '../model.js';
import type { CompletedOp } from '../history/complete.js';
import { describeValue } from '../values.js';

const ACQUIRE = 0;
const ACQUIRE_SHARED = 1;
const RELEASE = 2;
const RENEW = 3;
const READ = 4;

/** The lease parameters, the model's initial value. */
export interface LeaseParams {
  /** The TTL the clients ask for, ms. */
  readonly ttlMs: number;
  /** How far a node's clock rate may be off, e.g. 0.01 for 1 %. @default 0.01 */
  readonly driftBound?: number;
  /** How long after `ret + ttl·(1 + drift)` a lease surely has ended; absent: never surely. */
  readonly expiryGraceMs?: number;
}

/** The bounds a grant at `[call, ret]` adds to its times. */
interface Offsets {
  /** `ttl·(1 − drift)`. */
  readonly lo: number;
  /** `ttl·(1 + drift) + grace`, or `Infinity`. */
  readonly hi: number;
}

/** One holder: interned process, token (-1 unknown), and its lease's bounds (ms since the run started). */
interface LeaseHolder {
  readonly p: number;
  readonly token: number;
  /** Before this, the lease surely has not ended. */
  readonly lo: number;
  /** From this on, the lease surely has ended (`Infinity`: never surely). */
  readonly hi: number;
}

/** Who holds the lock with which leases, the largest token so far, and the lease offsets. */
export interface LeaseLockState {
  readonly writer: LeaseHolder | null;
  /** Shared holders, sorted by process. */
  readonly readers: readonly LeaseHolder[];
  readonly last: number;
  /** The earliest time (ms) the last op linearized can have taken effect: the next one is no earlier. */
  readonly now: number;
  readonly offsets: Offsets;
  /** A canonical text of the state (without the offsets, equal in a whole search), for equality. */
  readonly key: string;
}

interface LeaseInput {
  readonly k: number;
  readonly p: number;
  readonly token: number;
  readonly info: boolean;
  /** Invocation time, ms since the run started. */
  readonly call: number;
  /** Completion time, ms; `Infinity` for info ops. */
  readonly ret: number;
  /** The holders a read saw, sorted by process (reads only). */
  readonly holders?: readonly { p: number; token: number }[];
}

const holderKey = (h: LeaseHolder): string => `${h.p}@${h.token}:${h.lo}-${h.hi}`;

function makeState(writer: LeaseHolder | null, readers: readonly LeaseHolder[], last: number, now: number, offsets: Offsets): LeaseLockState {
  const key = `${writer ? `W${holderKey(writer)}` : ''}|${readers.map(holderKey).join(',')}|${last}|${now}`;
  return { writer, readers, last, now, offsets, key };
}

const tokenMatches = (h: LeaseHolder, p: number, token: number): boolean => h.p === p && (token === -1 || h.token === -1 || h.token === token);

/** The lease parameters from `initial`: an object or an EDN map, camelCase or kebab-case keys. */
export function leaseParams(initial: unknown): Offsets {
  const get = (camel: string, kebab: string): unknown => {
    if (initial instanceof Map) {
      for (const [k, v] of initial) {
        const name = typeof k === 'string' ? k : (k as { name?: unknown } | null)?.name;
        if (name === camel || name === kebab) return v;
      }
      return undefined;
    }
    const o = initial as Record<string, unknown>;
    return o[camel] ?? o[kebab];
  };
  if (initial === null || typeof initial !== 'object') {
    throw new ModelConfigError(`lease-lock needs its lease parameters as the initial value, e.g. {:ttl-ms 1500 :drift-bound 0.01}; got ${describeValue(initial)}`);
  }
  const num = (camel: string, kebab: string, fallback: number | undefined, ok: (x: number) => boolean, what: string): number => {
    let v = get(camel, kebab);
    if (typeof v === 'bigint') v = Number(v);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !ok(v)) throw new ModelConfigError(`lease-lock: ${camel} must be ${what}, got ${describeValue(v)}`);
    return v;
  };
  const ttl = num('ttlMs', 'ttl-ms', undefined, (x) => x > 0 && Number.isFinite(x), 'a positive number of ms');
  const drift = num('driftBound', 'drift-bound', 0.01, (x) => x >= 0 && x < 1, 'at least 0 and below 1');
  const grace = num('expiryGraceMs', 'expiry-grace-ms', Infinity, (x) => x >= 0, 'at least 0 ms');
  return { lo: ttl * (1 - drift), hi: ttl * (1 + drift) + grace };
}

const msOf = (op: CompletedOp, which: 'invoke' | 'complete'): number => {
  const t = op[which]?.time;
  if (typeof t !== 'number') throw new ModelInputError(`lease-lock: every op needs its ${which} time (ns) to judge leases; this one has none`, op);
  return t / 1e6;
};

const tokenOf = (v: unknown, op: CompletedOp, what: string): number => {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ModelInputError(`lease-lock: ${what} must be a non-negative integer token, got ${describeValue(v)}`, op);
  }
  return v;
};

function apply(s: LeaseLockState, x: LeaseInput): LeaseLockState | undefined {
  const { p } = x;
  // The op's linearization point is at or after the previous op's and its own invocation; it
  // moves later only as far as the leases it must end require, and never past its completion.
  let t = s.now > x.call ? s.now : x.call;
  const end = (h: LeaseHolder): void => {
    if (h.lo > t) t = h.lo;
  };
  switch (x.k) {
    case ACQUIRE:
    case ACQUIRE_SHARED: {
      if (x.token !== -1 && x.token <= s.last) return undefined;
      // Who must be gone: everyone for an exclusive grant; the writer, and the process's own
      // earlier lease, for a shared one.
      let readers: LeaseHolder[];
      if (s.writer !== null) end(s.writer);
      if (x.k === ACQUIRE) {
        for (const r of s.readers) end(r);
        readers = [];
      } else {
        readers = [];
        for (const r of s.readers) {
          if (r.p === p) end(r);
          else readers.push(r);
        }
      }
      if (t > x.ret) return undefined;
      const h: LeaseHolder = { p, token: x.token, lo: x.call + s.offsets.lo, hi: x.ret + s.offsets.hi };
      const last = x.token === -1 ? s.last : x.token;
      if (x.k === ACQUIRE) return makeState(h, [], last, t, s.offsets);
      readers.push(h);
      readers.sort((a, b) => a.p - b.p);
      return makeState(null, readers, last, t, s.offsets);
    }
    case RELEASE:
    case RENEW: {
      const renewed = (h: LeaseHolder): LeaseHolder => ({ ...h, lo: Math.max(h.lo, x.call + s.offsets.lo), hi: x.ret + s.offsets.hi });
      if (s.writer !== null) {
        if (!tokenMatches(s.writer, p, x.token) || !(t < s.writer.hi)) return undefined;
        return x.k === RELEASE ? makeState(null, [], s.last, t, s.offsets) : makeState(renewed(s.writer), [], s.last, t, s.offsets);
      }
      const i = s.readers.findIndex((h) => tokenMatches(h, p, x.token));
      if (i === -1 || !(t < (s.readers[i] as LeaseHolder).hi)) return undefined;
      const readers = x.k === RELEASE ? s.readers.filter((_, j) => j !== i) : s.readers.map((h, j) => (j === i ? renewed(h) : h));
      return makeState(null, readers, s.last, t, s.offsets);
    }
    case READ: {
      const seen = x.holders ?? [];
      const present = s.writer !== null ? [s.writer] : s.readers;
      // Every holder not seen has ended by the read; every holder seen is there, and alive.
      const kept: LeaseHolder[] = [];
      for (const h of present) {
        if (seen.some((v) => tokenMatches(h, v.p, v.token))) kept.push(h);
        else end(h);
      }
      if (kept.length !== seen.length || t > x.ret || !kept.every((h) => t < h.hi)) return undefined;
      if (kept.length === present.length) return makeState(s.writer, s.readers, s.last, t, s.offsets);
      return s.writer !== null ? makeState(kept[0] ?? null, [], s.last, t, s.offsets) : makeState(null, kept, s.last, t, s.offsets);
    }
    default:
      return undefined;
  }
}

/** A shared/exclusive lock with fencing tokens whose grants are leases (see the module comment). */
export const leaseLock: Model<LeaseLockState, LeaseInput> = defineModel<LeaseLockState, LeaseInput>({
  name: 'lease-lock',
  description:
    'fenced-lock whose grants are leases of a known TTL, judged by op times (initial value: {:ttl-ms N :drift-bound 0.01 :expiry-grace-ms G}): :acquire → token, :acquire-shared → token, :release [token], :renew token, :read → [[process token] ...]',
  initialValue: 'the lease parameters, e.g. {:ttl-ms 1500 :drift-bound 0.01} (:expiry-grace-ms G: leases surely end G ms after ttl·(1+drift) past the grant; default never)',
  init: (_ctx, initial) => makeState(null, [], -1, -Infinity, leaseParams(initial)),
  prepare(op, ctx) {
    const info = op.type === 'info';
    const p = ctx.intern(op.process);
    const call = msOf(op, 'invoke');
    const ret = info ? Infinity : msOf(op, 'complete');
    switch (op.f) {
      case 'acquire':
      case 'acquire-shared': {
        const k = op.f === 'acquire' ? ACQUIRE : ACQUIRE_SHARED;
        if (info) return { k, p, token: -1, info, call, ret };
        const token = tokenOf(op.value, op, `the value of an ok ${op.f}`);
        if (token === -1) throw new ModelInputError(`lease-lock: an ok ${op.f} must return its token, got nil`, op);
        return { k, p, token, info, call, ret };
      }
      case 'release':
        return { k: RELEASE, p, token: tokenOf(op.invokeValue, op, 'the value of a release'), info, call, ret };
      case 'renew':
        return { k: RENEW, p, token: tokenOf(op.invokeValue, op, 'the value of a renew'), info, call, ret };
      case 'read': {
        if (info) return null;
        if (!Array.isArray(op.value)) throw new ModelInputError(`lease-lock: the value of an ok read must be a list of [process token] holders, got ${describeValue(op.value)}`, op);
        const holders = op.value.map((h: unknown) => {
          if (!Array.isArray(h) || h.length !== 2) throw new ModelInputError(`lease-lock: a holder a read returned must be [process token], got ${describeValue(h)}`, op);
          const proc: unknown = typeof h[0] === 'bigint' ? Number(h[0]) : h[0];
          return { p: ctx.intern(proc), token: tokenOf(h[1], op, "a read holder's token") };
        });
        return { k: READ, p, token: -1, info, call, ret, holders };
      }
      default:
        throw new ModelInputError(`lease-lock has no operation '${op.f}' (it takes acquire, acquire-shared, release, renew, read)`, op);
    }
  },
  step(s, input) {
    const next = apply(s, input);
    // An info op took effect only if it could; otherwise it did not happen.
    return next === undefined && input.info ? s : next;
  },
  prune(inputs, info) {
    // As in fenced-lock: an info acquire only gets in others' way, unless the same process later
    // releases or renews (ok) or a read lists the process; otherwise it is dropped.
    const keep = inputs.map(() => true);
    const needed = new Set<number>();
    for (const x of inputs) for (const h of x.holders ?? []) needed.add(h.p);
    for (let i = inputs.length - 1; i >= 0; i--) {
      const x = inputs[i] as LeaseInput;
      if (x.k === RELEASE || x.k === RENEW) {
        if (!info[i]) needed.add(x.p);
      } else if ((x.k === ACQUIRE || x.k === ACQUIRE_SHARED) && info[i] && !needed.has(x.p)) {
        keep[i] = false;
      }
    }
    return keep;
  },
  equal: (a, b) => a.key === b.key,
  describeState(s, ctx) {
    const span = (h: LeaseHolder): string => `lease ends after ${(h.lo / 1000).toFixed(3)} s${h.hi === Infinity ? '' : `, by ${(h.hi / 1000).toFixed(3)} s`}`;
    const who = (h: LeaseHolder): string => `${describeValue(ctx.valueOf(h.p))} (${h.token === -1 ? '' : `token ${h.token}, `}${span(h)})`;
    const holders = s.writer
      ? `held exclusively by process ${who(s.writer)}`
      : s.readers.length > 0
        ? `shared by process${s.readers.length > 1 ? 'es' : ''} ${s.readers.map(who).join(', ')}`
        : 'free';
    return s.last !== -1 ? `${holders}; last token ${s.last}` : holders;
  },
});
