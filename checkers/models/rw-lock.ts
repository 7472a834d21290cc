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
 *
 * `:read` returns the holders, `[[process token] ...]` in any order: the set of processes (and, in
 * `fenced-lock`, each one's token) must be the lock's holders at the read's linearization point.
 * A holder whose token the model does not know (its acquire was `info`) matches any token. An
 * `info` read constrains nothing. `:renew` (value: the token) is ok only when the process holds the
 * lock (with that token, in `fenced-lock`); it changes nothing here (no expiry is modelled).
 */
import { defineModel, ModelInputError, type Model } from '../model.js';
import { describeValue } from '../values.js';

const ACQUIRE = 0;
const ACQUIRE_SHARED = 1;
const RELEASE = 2;
const READ = 3;
const RENEW = 4;

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
  /** The holders a read saw, sorted by process (reads only). */
  readonly holders?: readonly Holder[];
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
  /** The holders a read returned, `[[process token] ...]`, sorted by process. */
  const holdersOf = (v: unknown, op: Parameters<Model['prepare']>[0], ctx: Parameters<Model['prepare']>[1]): Holder[] => {
    if (!Array.isArray(v)) throw new ModelInputError(`${name}: the value of an ok read must be a list of [process token] holders, got ${describeValue(v)}`, op);
    return v
      .map((h: unknown) => {
        if (!Array.isArray(h) || h.length !== 2) throw new ModelInputError(`${name}: a holder a read returned must be [process token], got ${describeValue(h)}`, op);
        const proc: unknown = typeof h[0] === 'bigint' ? Number(h[0]) : h[0];
        return { p: ctx.intern(proc), token: tokenOf(h[1], op, 'a read holder\'s token') };
      })
      .sort((a, b) => a.p - b.p);
  };
  const matchesHeld = (h: Holder, p: number, token: number): boolean => h.p === p && (!fenced || token === -1 || h.token === -1 || h.token === token);
  const apply = (s: LockState, input: LockInput): LockState | undefined => {
    const { p } = input;
    switch (input.k) {
      case READ: {
        const seen = input.holders ?? [];
        const held = s.writer !== null ? [s.writer] : s.readers;
        if (seen.length !== held.length) return undefined;
        return held.every((h, i) => matchesHeld(h, (seen[i] as Holder).p, (seen[i] as Holder).token)) ? s : undefined;
      }
      case RENEW:
        return (s.writer !== null ? [s.writer] : s.readers).some((h) => matchesHeld(h, p, input.token)) ? s : undefined;
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
        const matches = (h: Holder): boolean => matchesHeld(h, p, input.token);
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
      ? 'shared/exclusive lock whose grants return fencing tokens that must increase: :acquire → token, :acquire-shared → token, :release [token], :renew token, :read → [[process token] ...]'
      : 'shared/exclusive lock held by processes: :acquire (exclusive), :acquire-shared, :release, :renew, :read → [[process token] ...]',
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
        case 'renew':
          // A renewal changes nothing the model knows: one of unknown outcome says nothing.
          return info ? null : { k: RENEW, p, token: fenced ? tokenOf(op.invokeValue, op, 'the value of a renew') : -1, info };
        case 'read':
          return info ? null : { k: READ, p, token: -1, info, holders: holdersOf(op.value, op, ctx) };
        default:
          throw new ModelInputError(`${name} has no operation '${op.f}' (it takes acquire, acquire-shared, release, renew, read)`, op);
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
      // An ok renew by the process needs it as a release does, and so does any ok read that saw
      // the process hold the lock.
      const keep = inputs.map(() => true);
      const releasesLater = new Set<number>();
      const seenByReads = new Set<number>();
      for (const x of inputs) for (const h of x.holders ?? []) seenByReads.add(h.p);
      for (let i = inputs.length - 1; i >= 0; i--) {
        const x = inputs[i] as LockInput;
        if (x.k === RELEASE || x.k === RENEW) {
          if (!info[i]) releasesLater.add(x.p);
        } else if (x.k === READ) {
          continue;
        } else if (info[i] && !releasesLater.has(x.p) && !seenByReads.has(x.p)) {
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
