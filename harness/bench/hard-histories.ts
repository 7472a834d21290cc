/**
 * Hard histories for the checker's benchmark (`npm run bench:checker -- --hard`) and tests: the
 * shapes on which a linearizability checker slows down, generated from simulated linearizable
 * services (each op takes effect at a random point between its invocation and its completion).
 *
 * - {@link kvHistory}: MIT 6.5840's key-value lab (Porcupine's test data): many concurrent
 *   clients appending to and reading a few keys, so values grow long and many ops overlap.
 * - {@link lockHistory}: a fenced lock with shared and exclusive acquires where many acquires
 *   time out (`info`), as a lock service under faults produces.
 */
import type { Op } from '../../checkers/index.js';
import { prng } from '../random.js';

/** Options of {@link kvHistory}. */
export interface KvHistoryOptions {
  /** Completed operations. @default 2000 */
  readonly ops?: number;
  /** Concurrent clients, each issuing its next op when the last one completes. @default 50 */
  readonly clients?: number;
  /** Keys. @default 10 */
  readonly keys?: number;
  /** Share of gets (the rest append). @default 0.5 */
  readonly getRate?: number;
  /** Plant one stale read (a get that misses an append completed before it was invoked): invalid. @default false */
  readonly staleRead?: boolean;
  /** @default 1 */
  readonly seed?: number;
}

interface Planned {
  readonly process: number;
  readonly f: string;
  readonly key: number;
  /** Argument (append) or result (get). */
  value: string | number | null;
  readonly start: number;
  readonly end: number;
  /** Linearization point, NaN if the op never took effect. */
  readonly at: number;
  /** Never completed (a timeout). */
  readonly info: boolean;
}

/**
 * Invocation and completion events of planned ops, in time order, as Jepsen independent tuples;
 * an op that timed out (`info`) has an invocation only (its process never completes it).
 */
function toHistory(planned: readonly Planned[], invokeValue: (p: Planned) => unknown, okValue: (p: Planned) => unknown): Op[] {
  const events: { time: number; complete: boolean; p: Planned }[] = [];
  for (const p of planned) {
    events.push({ time: p.start, complete: false, p });
    if (Number.isFinite(p.end)) events.push({ time: p.end, complete: true, p });
  }
  events.sort((a, b) => a.time - b.time || Number(b.complete) - Number(a.complete));
  return events.map((e, index) => {
    const { p } = e;
    const type = !e.complete ? 'invoke' : 'ok';
    const v = type === 'ok' ? okValue(p) : invokeValue(p);
    return { index, type, f: p.f, value: [p.key, v], process: p.process, time: Math.round(e.time * 1e6) };
  });
}

/** Picks the client that is free earliest. */
function earliest<T extends { free: number }>(slots: readonly T[]): T {
  let s = slots[0] as T;
  for (const x of slots) if (x.free < s.free) s = x;
  return s;
}

/**
 * A kv history (`get`, `append` on `[key value]` tuples; check with the `kv` model): linearizable,
 * or with one planted stale read. Times in ms before conversion; ops last 5–50 ms.
 */
export function kvHistory(o: KvHistoryOptions = {}): Op[] {
  const { ops: total = 2000, clients = 50, keys = 10, getRate = 0.5, staleRead = false, seed = 1 } = o;
  const rand = prng(seed);
  const slots = Array.from({ length: clients }, (_, i) => ({ process: i, free: rand() * 5, n: 0 }));
  const planned: Planned[] = [];
  while (planned.length < total) {
    const s = earliest(slots);
    const start = s.free;
    const end = start + 5 + rand() * 45;
    const f = rand() < getRate ? 'get' : 'append';
    const value = f === 'append' ? `x ${s.process} ${s.n++} y` : null;
    planned.push({ process: s.process, f, key: Math.floor(rand() * keys), value, start, end, at: start + rand() * (end - start), info: false });
    s.free = end + rand() * 2;
  }
  // What each get returned: the key's string at the get's linearization point.
  const strings = new Map<number, string>();
  const before = new Map<Planned, string>();
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    const cur = strings.get(p.key) ?? '';
    before.set(p, cur);
    if (p.f === 'append') strings.set(p.key, cur + String(p.value));
    else p.value = cur;
  }
  if (staleRead) {
    // A get in the second half that must see an append completed before it was invoked: it
    // returns the string as it was before that append.
    const gets = planned.filter((p) => p.f === 'get');
    for (const g of gets.slice(Math.floor(gets.length / 2))) {
      const seen = planned.filter((p) => p.f === 'append' && p.key === g.key && p.end < g.start).sort((a, b) => b.at - a.at)[0];
      if (seen === undefined) continue;
      g.value = before.get(seen) ?? '';
      break;
    }
  }
  return toHistory(
    planned,
    (p) => (p.f === 'append' ? p.value : null),
    (p) => p.value,
  );
}

/** Options of {@link lockHistory}. */
export interface LockHistoryOptions {
  /** Completed operations. @default 600 */
  readonly ops?: number;
  /** Concurrent client threads. @default 10 */
  readonly clients?: number;
  /** Locks. @default 1 */
  readonly keys?: number;
  /** Acquires that time out (`info`); none of them takes effect. @default 16 */
  readonly infoAcquires?: number;
  /** Share of acquires that are shared. @default 0.2 */
  readonly sharedRate?: number;
  /** @default 1 */
  readonly seed?: number;
}

/**
 * A fenced-lock history (`acquire`, `acquire-shared`, `release` on `[lock value]` tuples; check
 * with `fenced-lock --independent`): a process that holds a lock releases it next, acquires that
 * find the lock taken fail, grants carry increasing tokens, and `infoAcquires` acquires spread
 * over the history time out (their process retires, as Jepsen's do).
 */
export function lockHistory(o: LockHistoryOptions = {}): Op[] {
  const { ops: total = 600, clients = 10, keys = 1, infoAcquires = 16, sharedRate = 0.2, seed = 1 } = o;
  const rand = prng(seed);
  const infoEvery = Math.max(1, Math.floor(total / (infoAcquires + 1)));
  const planned: Planned[] = [];
  const tokens = new Map<Planned, number>();
  const locks = new Map<number, { writer: number | null; readers: Set<number> }>();
  const lockOf = (key: number): { writer: number | null; readers: Set<number> } => {
    let l = locks.get(key);
    if (l === undefined) locks.set(key, (l = { writer: null, readers: new Set<number>() }));
    return l;
  };
  let token = 0;
  let infos = 0;
  let nextProcess = clients;
  // A discrete-event simulation: a client invokes, its op takes effect at a point inside its
  // interval (in time order with everyone else's), and the client learns the outcome at the end.
  type Event = { time: number; run: () => void };
  const queue: Event[] = [];
  const at = (time: number, run: () => void): void => {
    let i = queue.length;
    while (i > 0 && (queue[i - 1] as Event).time > time) i--;
    queue.splice(i, 0, { time, run });
  };
  const client = (process: number, holds: { key: number; token: number } | null, free: number): void => {
    at(free, () => {
      if (planned.length >= total) return;
      const start = free;
      const point = start + rand() * 10;
      const end = point + rand() * 10;
      if (holds) {
        const p: Planned = { process, f: 'release', key: holds.key, value: holds.token, start, end, at: point, info: false };
        planned.push(p);
        at(point, () => {
          const l = lockOf(p.key);
          if (l.writer === process) l.writer = null;
          l.readers.delete(process);
        });
        at(end, () => client(process, null, end + rand() * 3));
        return;
      }
      const info = infos < infoAcquires && planned.length >= (infos + 1) * infoEvery;
      const f = rand() < sharedRate ? 'acquire-shared' : 'acquire';
      const key = Math.floor(rand() * keys);
      if (info) {
        // Timed out, never took effect; the process retires and a fresh one takes the thread.
        infos++;
        planned.push({ process, f, key, value: null, start, end: Infinity, at: NaN, info: true });
        at(end + 20, () => client(nextProcess++, null, end + 20));
        return;
      }
      const p: Planned = { process, f, key, value: null, start, end, at: point, info: false };
      let granted = false;
      at(point, () => {
        const l = lockOf(key);
        granted = f === 'acquire' ? l.writer === null && l.readers.size === 0 : l.writer === null;
        if (!granted) return;
        if (f === 'acquire') l.writer = process;
        else l.readers.add(process);
        tokens.set(p, ++token);
        planned.push(p);
      });
      // A refused acquire is a fail: the checker drops it, so it is left out.
      at(end, () => client(process, granted ? { key, token: tokens.get(p) as number } : null, end + rand() * 3));
    });
  };
  for (let c = 0; c < clients; c++) client(c, null, rand() * 5);
  for (let guard = 0; queue.length > 0 && guard < 100 * total; guard++) (queue.shift() as Event).run();
  return toHistory(
    planned,
    (p) => (p.f === 'release' ? p.value : null),
    (p) => (p.f === 'release' ? p.value : (tokens.get(p) as number)),
  );
}
