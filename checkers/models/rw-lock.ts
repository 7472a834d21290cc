/**
 * Shared/exclusive locks: `rw-lock`, and `fenced-lock`, an rw-lock whose grants return fencing
 * tokens that must increase in linearization order.
 *
 * One lock per history (use `--independent` for `[lock value]` tuples). Holders are processes:
 * `:acquire` takes the lock exclusively (ok only when nobody holds it), `:acquire-shared` shares it
 * (ok only when no exclusive holder, and not already held by this process), `:release` gives up
 * whatever the process holds (ok only if it holds the lock). In `fenced-lock` the value of an ok
 * acquire is its token, which must be larger than every earlier grant's; a release may name the
 * token it releases, which must then be the holder's.
 */
import { defineModel, ModelInputError, type Model } from '../model.js';
import { describeValue } from '../values.js';

const ACQUIRE = 0;
const ACQUIRE_SHARED = 1;
const RELEASE = 2;

/** One holder: an interned process id and its token (`-1` when unknown). */
interface Holder {
  readonly p: number;
  readonly token: number;
}

/** Who holds the lock, and the largest token granted so far. */
export interface LockState {
  readonly writer: Holder | null;
  /** Shared holders, sorted by process. */
  readonly readers: readonly Holder[];
  /** The largest token granted (-1 before any). */
  readonly last: number;
  /** A canonical text of the state, for equality. */
  readonly key: string;
}

interface LockInput {
  readonly k: number;
  readonly p: number;
  /** The grant's token (acquire), the released token (release), or -1 when unknown. */
  readonly token: number;
  readonly info: boolean;
}

const holderKey = (h: Holder): string => (h.token === -1 ? `${h.p}` : `${h.p}@${h.token}`);

function makeState(writer: Holder | null, readers: readonly Holder[], last: number): LockState {
  const key = `${writer ? `W${holderKey(writer)}` : ''}|${readers.map(holderKey).join(',')}|${last}`;
  return { writer, readers, last, key };
}

const FREE = makeState(null, [], -1);

function lockModel(name: string, fenced: boolean): Model<LockState, LockInput> {
  const tokenOf = (v: unknown, op: Parameters<Model['prepare']>[0], what: string): number => {
    if (v === null || v === undefined) return -1;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ModelInputError(`${name}: ${what} must be a non-negative integer token, got ${describeValue(v)}`, op);
    }
    return v;
  };
  const apply = (s: LockState, input: LockInput): LockState | undefined => {
    const { p } = input;
    switch (input.k) {
      case ACQUIRE:
      case ACQUIRE_SHARED: {
        if (s.writer !== null) return undefined;
        if (fenced && input.token !== -1 && input.token <= s.last) return undefined;
        const last = input.token === -1 ? s.last : input.token;
        const h = { p, token: input.token };
        if (input.k === ACQUIRE) return s.readers.length === 0 ? makeState(h, [], last) : undefined;
        if (s.readers.some((r) => r.p === p)) return undefined;
        const readers = [...s.readers, h].sort((a, b) => a.p - b.p);
        return makeState(null, readers, last);
      }
      default: {
        const matches = (h: Holder): boolean =>
          h.p === p && (!fenced || input.token === -1 || h.token === -1 || h.token === input.token);
        if (s.writer !== null) return matches(s.writer) ? makeState(null, [], s.last) : undefined;
        const i = s.readers.findIndex(matches);
        if (i === -1) return undefined;
        return makeState(null, s.readers.filter((_, j) => j !== i), s.last);
      }
    }
  };
  return defineModel<LockState, LockInput>({
    name,
    description: fenced
      ? 'shared/exclusive lock whose grants return fencing tokens that must increase: :acquire → token, :acquire-shared → token, :release [token]'
      : 'shared/exclusive lock held by processes: :acquire (exclusive), :acquire-shared, :release',
    init: () => FREE,
    prepare(op, ctx) {
      const info = op.type === 'info';
      const p = ctx.intern(op.process);
      switch (op.f) {
        case 'acquire':
        case 'acquire-shared': {
          const k = op.f === 'acquire' ? ACQUIRE : ACQUIRE_SHARED;
          if (!fenced || info) return { k, p, token: -1, info };
          const token = tokenOf(op.value, op, `the value of an ok ${op.f}`);
          if (token === -1) throw new ModelInputError(`${name}: an ok ${op.f} must return its token, got nil`, op);
          return { k, p, token, info };
        }
        case 'release':
          return { k: RELEASE, p, token: fenced ? tokenOf(op.invokeValue, op, 'the value of a release') : -1, info };
        default:
          throw new ModelInputError(`${name} has no operation '${op.f}' (it takes acquire, acquire-shared, release)`, op);
      }
    },
    step(s, input) {
      const next = apply(s, input);
      // An info op took effect only if it could; otherwise it did not happen.
      return next === undefined && input.info ? s : next;
    },
    prune(inputs, info) {
      // An info acquire can only get in others' way: if it took effect it added a holder (with
      // no token, so `last` is unchanged), which no op needs but an ok release by the same
      // process invoked after it (inputs are in invocation order; a process's earlier ops
      // returned before it invoked this one, and info releases need not happen at all). Without
      // one, a linearization in which it took effect stays one if it did not, so it is dropped:
      // Jepsen's processes retire after an info, and a lock client never releases after that.
      const keep = inputs.map(() => true);
      const releasesLater = new Set<number>();
      for (let i = inputs.length - 1; i >= 0; i--) {
        const x = inputs[i] as LockInput;
        if (x.k === RELEASE) {
          if (!info[i]) releasesLater.add(x.p);
        } else if (info[i] && !releasesLater.has(x.p)) {
          keep[i] = false;
        }
      }
      return keep;
    },
    equal: (a, b) => a.key === b.key,
    describeState(s, ctx) {
      const who = (h: Holder): string =>
        `${describeValue(ctx.valueOf(h.p))}${fenced && h.token !== -1 ? ` (token ${h.token})` : ''}`;
      const holders = s.writer
        ? `held exclusively by process ${who(s.writer)}`
        : s.readers.length > 0
          ? `shared by process${s.readers.length > 1 ? 'es' : ''} ${s.readers.map(who).join(', ')}`
          : 'free';
      return fenced && s.last !== -1 ? `${holders}; last token ${s.last}` : holders;
    },
  });
}

/** A shared/exclusive lock held by processes. */
export const rwLock = lockModel('rw-lock', false);
/** A shared/exclusive lock whose grants carry increasing fencing tokens. */
export const fencedLock = lockModel('fenced-lock', true);
