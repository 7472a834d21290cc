/**
 * The linearizability search for one partition: Wing & Gong's algorithm with Lowe's memoization,
 * as Porcupine implements it (private to the checker; use `linearizable.ts`).
 *
 * The `ok` ops form a doubly linked list of call and return entries in real-time order. The
 * search walks it from the head: at a call entry it tries to linearize that op next (the model
 * accepts it, and the resulting (linearized set, state) was not explored before), which removes
 * ("lifts") its call and return from the list and restarts at the head. At the first return entry
 * no pending `ok` op can come next; the search then tries the pending `info` ops (invoked before
 * that return, not yet linearized), and when none fits it backtracks, restoring the last
 * linearized op. When every `ok` op is linearized the partition is linearizable: the remaining
 * `info` ops can all follow, since their outcome is unknown.
 *
 * Unlike Porcupine, `info` ops are not entries of the list with a return at infinity, tried
 * first whenever they were invoked early: they are tried only after every `ok` candidate, so a
 * history with many timeouts does not send the search down a branch per timed-out op first.
 */
import { LinearizedSet, VisitedCache } from './bitset.js';
import type { Model } from './model.js';
import type { Validity } from './checker.js';

/** One op of a partition as the search sees it. */
export interface SearchOp<I> {
  readonly call: number;
  /** `Infinity` for an `info` op. */
  readonly ret: number;
  readonly input: I;
}

/** Limits of one search. */
export interface SearchLimits {
  /** Clock value (from `now`) after which the search gives up with `unknown`. */
  readonly deadline: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
  /** The most cache entries before the search gives up with `unknown`, to bound memory. */
  readonly maxCacheEntries: number;
  /** The most bytes the cache may hold (`VisitedCache.bytes`) before the search gives up with `unknown`. @default Infinity */
  readonly maxBytes?: number;
  /** Called with the configurations explored so far, every few thousand steps (keep it cheap). */
  readonly progress?: (explored: number) => void;
}

/** What one search found. Op numbers are indices into the `ops` array given to {@link search}. */
export interface SearchOutcome<S> {
  readonly valid: Validity;
  /** Why the result is `unknown`. */
  readonly reason?: 'timeout' | 'cache-limit' | 'memory-limit';
  /** The longest sequence of ops linearized at once, in linearization order. */
  readonly longest: number[];
  /** `statesAfter[k]` is the model state after `longest[k]`. */
  readonly statesAfter: S[];
  /** The op whose return the longest linearization could not get past (-1 if none). */
  readonly stuck: number;
  /** Configurations explored (cache entries). */
  readonly explored: number;
}

/** How often (in loop iterations) the clock is read. */
const CLOCK_EVERY = 1024;

/** Searches for a linearization of `ops` from `initial` under `model`. */
export function search<S, I>(model: Model<S, I>, ops: readonly SearchOp<I>[], initial: S, limits: SearchLimits): SearchOutcome<S> {
  const n = ops.length;
  // Number the ops: ok ones by call (bit ids 0..okCount-1), then info ones by call.
  const order = ops.map((_, i) => i);
  order.sort((a, b) => {
    const oa = ops[a] as SearchOp<I>;
    const ob = ops[b] as SearchOp<I>;
    return (oa.ret === Infinity ? 1 : 0) - (ob.ret === Infinity ? 1 : 0) || oa.call - ob.call;
  });
  let okCount = 0;
  while (okCount < n && (ops[order[okCount] as number] as SearchOp<I>).ret !== Infinity) okCount++;
  const infoCount = n - okCount;
  const set = new LinearizedSet(okCount, infoCount);
  const infoBase = set.infoBase;
  const opAt = (k: number): SearchOp<I> => ops[order[k] as number] as SearchOp<I>;
  // The original index of a bit id.
  const origOf = (id: number): number => order[id < okCount ? id : okCount + id - infoBase] as number;
  const inputs: I[] = new Array(infoBase + infoCount);
  for (let k = 0; k < n; k++) inputs[k < okCount ? k : infoBase + k - okCount] = opAt(k).input;

  // The entry list of ok ops: entry 2*id is the call of op `id`, 2*id+1 its return.
  const HEAD = 2 * okCount;
  const next = new Int32Array(HEAD + 1).fill(-1);
  const prev = new Int32Array(HEAD + 1).fill(-1);
  const retPos = new Float64Array(okCount);
  {
    const entries: number[] = [];
    const keys = new Float64Array(HEAD);
    for (let id = 0; id < okCount; id++) {
      const op = opAt(id);
      entries.push(2 * id, 2 * id + 1);
      keys[2 * id] = op.call;
      keys[2 * id + 1] = op.ret;
      retPos[id] = op.ret;
    }
    entries.sort((a, b) => (keys[a] as number) - (keys[b] as number));
    let p = HEAD;
    for (const e of entries) {
      next[p] = e;
      prev[e] = p;
      p = e;
    }
  }
  const lift = (id: number): void => {
    const c = 2 * id;
    const r = c + 1;
    next[prev[c] as number] = next[c] as number;
    prev[next[c] as number] = prev[c] as number; // a call always has a next (its return at least)
    next[prev[r] as number] = next[r] as number;
    if (next[r] !== -1) prev[next[r] as number] = prev[r] as number;
  };
  const unlift = (id: number): void => {
    const c = 2 * id;
    const r = c + 1;
    next[prev[r] as number] = r;
    if (next[r] !== -1) prev[next[r] as number] = r;
    next[prev[c] as number] = c;
    prev[next[c] as number] = c;
  };

  // The list of info ops not linearized, by call: node j is info op j (bit id infoBase + j).
  const IHEAD = infoCount;
  const iNext = new Int32Array(infoCount + 1);
  const iPrev = new Int32Array(infoCount + 1);
  const iCall = new Float64Array(infoCount);
  for (let j = 0; j <= infoCount; j++) {
    iNext[j] = j + 1 <= infoCount ? j + 1 : -1;
    iPrev[j] = j === 0 ? IHEAD : j - 1;
    if (j < infoCount) iCall[j] = opAt(okCount + j).call;
  }
  iNext[IHEAD] = infoCount > 0 ? 0 : -1;
  if (infoCount > 0) iNext[infoCount - 1] = -1;
  // Interchangeable info ops (equal input keys) are linearized in invocation order only: a
  // linearization using a later twin but not the earlier one can use the earlier one instead.
  const twin = new Int32Array(infoCount).fill(-1);
  if (model.inputKey) {
    const last = new Map<string | number, number>();
    for (let j = 0; j < infoCount; j++) {
      const key = model.inputKey(inputs[infoBase + j] as I);
      const t = last.get(key);
      if (t !== undefined) twin[j] = t;
      last.set(key, j);
    }
  }
  const unlinkInfo = (j: number): void => {
    iNext[iPrev[j] as number] = iNext[j] as number;
    if (iNext[j] !== -1) iPrev[iNext[j] as number] = iPrev[j] as number;
  };
  const relinkInfo = (j: number): void => {
    iNext[iPrev[j] as number] = j;
    if (iNext[j] !== -1) iPrev[iNext[j] as number] = j;
  };

  const equal = model.equal ?? ((a: S, b: S) => a === b);
  const hash = model.hash;
  const cache = new VisitedCache<S>(equal);

  // The stack of linearized ops, with what is needed to undo each.
  const stackOp = new Int32Array(n);
  const stackBounds = new Int32Array(4 * n);
  const stackState: S[] = new Array(n);
  let depth = 0;

  // The longest linearization seen: best[0..lowWater) still equals the stack's bottom.
  const bestOps = new Int32Array(n);
  const bestStates: S[] = new Array(n);
  let bestDepth = -1;
  let lowWater = 0;
  let stuck = -1;
  const saveBest = (state: S, stuckId: number): void => {
    for (let k = lowWater; k < depth; k++) {
      bestOps[k] = stackOp[k] as number;
      bestStates[k] = k + 1 < depth ? (stackState[k + 1] as S) : state;
    }
    bestDepth = depth;
    lowWater = depth;
    stuck = stuckId;
  };
  const outcome = (valid: Validity, reason?: SearchOutcome<S>['reason']): SearchOutcome<S> => {
    const longest: number[] = [];
    const statesAfter: S[] = [];
    for (let k = 0; k < bestDepth; k++) {
      longest.push(origOf(bestOps[k] as number));
      statesAfter.push(bestStates[k] as S);
    }
    return {
      valid,
      ...(reason ? { reason } : {}),
      longest,
      statesAfter,
      stuck: stuck === -1 ? -1 : origOf(stuck),
      explored: cache.size,
    };
  };

  let state = initial;
  let remainingOk = okCount;
  /** The ok entry being looked at, or -1 while trying info ops. */
  let entry = next[HEAD] as number;
  /** While trying info ops: the next info op to try, and the return they must be invoked before. */
  let infoCursor = -1;
  let limitRet = 0;
  let iterations = 0;

  // The ok ops that must still be linearized and are invoked by now (their call entries before
  // the first return entry in the list) must stay possible after a step (see Model.stillPossible).
  const possible = model.stillPossible?.(ops.map((o) => o.input));
  const pendingPossible = (s: S, except: number): boolean => {
    for (let e = next[HEAD] as number; e !== -1 && (e & 1) === 0; e = next[e] as number) {
      const other = e >>> 1;
      if (other !== except && !(possible as (state: S, input: I) => boolean)(s, inputs[other] as I)) return false;
    }
    return true;
  };

  /** Tries to linearize `id` next; true if it was (and the search moved on). */
  const tryOp = (id: number): boolean => {
    const nextState = model.step(state, inputs[id] as I);
    if (nextState === undefined) return false;
    if (possible !== undefined && !pendingPossible(nextState, id)) return false;
    const { floor, hi, infoLo, infoHi } = set;
    set.add(id);
    if (!cache.addIfAbsent(set, nextState, hash ? hash(nextState) : 0)) {
      set.remove(id, floor, hi, infoLo, infoHi);
      return false;
    }
    stackOp[depth] = id;
    const b = 4 * depth;
    stackBounds[b] = floor;
    stackBounds[b + 1] = hi;
    stackBounds[b + 2] = infoLo;
    stackBounds[b + 3] = infoHi;
    stackState[depth] = state;
    depth++;
    state = nextState;
    return true;
  };

  for (;;) {
    if (remainingOk === 0) {
      // Everything that must be linearized is; record it as the longest for reports.
      if (depth > bestDepth) saveBest(state, -1);
      return outcome(true);
    }
    if (++iterations % CLOCK_EVERY === 0) {
      if (limits.now() > limits.deadline) {
        if (depth > bestDepth) saveBest(state, -1);
        return outcome('unknown', 'timeout');
      }
      if (cache.size > limits.maxCacheEntries) {
        if (depth > bestDepth) saveBest(state, -1);
        return outcome('unknown', 'cache-limit');
      }
      if (limits.maxBytes !== undefined && cache.bytes > limits.maxBytes) {
        if (depth > bestDepth) saveBest(state, -1);
        return outcome('unknown', 'memory-limit');
      }
      limits.progress?.(cache.size);
    }
    if (entry !== -1) {
      if ((entry & 1) === 0) {
        const id = entry >>> 1;
        if (tryOp(id)) {
          lift(id);
          remainingOk--;
          entry = next[HEAD] as number;
        } else {
          entry = next[entry] as number;
        }
        continue;
      }
      // The first return entry: no ok op fits next. Try the info ops invoked before it.
      limitRet = retPos[entry >>> 1] as number;
      infoCursor = iNext[IHEAD] as number;
      entry = -1;
    }
    if (infoCursor !== -1 && (iCall[infoCursor] as number) < limitRet) {
      const j = infoCursor;
      const t = twin[j] as number;
      if ((t === -1 || set.has(infoBase + t)) && tryOp(infoBase + j)) {
        unlinkInfo(j);
        entry = next[HEAD] as number;
      } else {
        infoCursor = iNext[j] as number;
      }
      continue;
    }
    // Nothing fits before the first pending return: backtrack.
    if (depth > bestDepth) {
      let r = next[HEAD] as number;
      while ((r & 1) === 0) r = next[r] as number;
      saveBest(state, r >>> 1);
    }
    if (depth === 0) return outcome(false);
    depth--;
    if (depth < lowWater) lowWater = depth;
    const id = stackOp[depth] as number;
    const b = 4 * depth;
    set.remove(id, stackBounds[b] as number, stackBounds[b + 1] as number, stackBounds[b + 2] as number, stackBounds[b + 3] as number);
    state = stackState[depth] as S;
    stackState[depth] = undefined as S; // let the state be collected
    if (id < okCount) {
      unlift(id);
      remainingOk++;
      entry = next[2 * id] as number;
    } else {
      // Resume the info candidates after this one, under the same first return as before.
      const j = id - infoBase;
      relinkInfo(j);
      infoCursor = iNext[j] as number;
      let r = next[HEAD] as number;
      while ((r & 1) === 0) r = next[r] as number;
      limitRet = retPos[r >>> 1] as number;
      entry = -1;
    }
  }
}
