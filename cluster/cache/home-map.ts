/**
 * Which node acts as the home of each key, and how a home is failed over safely.
 *
 * A key's home is the first node of its preference list on the ring that the **home map** does
 * not mark down. The map (`{epoch, down}`) lives in main memory beside the values, and every
 * home's access to main memory is *fenced* by the epoch it acts under: the store applies it only
 * if the map's epoch is still that one (atomically, in the store). So once the map has changed, a
 * home that has not heard of it can neither read nor write main memory, and so can grant no copy
 * and acknowledge no write.
 *
 * A node that becomes the home of keys under a new map waits one hold period before serving
 * them: every copy the former home granted has then run out (it was granted before the change,
 * which fenced that home). Keys whose home did not change are served on. Only a store shared by
 * every node can fence (Redis); the embedded store lives on its home's disk, so there its keys
 * have no other home and the map never changes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FP } from '../failpoints.js';

/** The home map: its epoch (every change adds one) and the nodes that act as no key's home. */
export interface HomeView {
  readonly epoch: number;
  readonly down: readonly string[];
}

/** The map before any change. */
export const INITIAL_VIEW: HomeView = { epoch: 0, down: [] };

/** A fenced store call refused: the map has changed (`current` is the map now). */
export class StaleEpochError extends Error {
  readonly current: HomeView;
  constructor(epoch: number, current: HomeView) {
    super(`the home map is at epoch ${current.epoch}, not ${epoch}: this node no longer acts under the map it knew`);
    this.current = current;
  }
}

/**
 * Main memory's side of fail-over: the map and the fenced calls. Each fenced call is applied
 * only if the map is still at `epoch`, atomically with the check; otherwise it rejects with a
 * {@link StaleEpochError} and has done nothing.
 */
export interface Fencing {
  /** The map as the store has it. */
  read(): Promise<HomeView>;
  /** Replaces the map by `{expected + 1, down}` if it is at `expected`: the new map, or null when it had changed first. */
  swap(expected: number, down: readonly string[]): Promise<HomeView | null>;
  get(epoch: number, key: string): Promise<string | null>;
  put(epoch: number, key: string, value: string): Promise<void>;
  delete(epoch: number, key: string): Promise<void>;
  /** Resolves if the map is at `epoch` (a home about to grant a copy without touching a value). */
  check(epoch: number): Promise<void>;
}

/** A restart, or a change of map this node learnt: until `until`, the keys it gained by it wait. */
interface Grace {
  readonly until: number;
  readonly cause: 'restart' | 'map';
  /** The map's epoch (a change of map). */
  readonly epoch: number;
  /** The home of `key` before (a change of map learnt right after the one before), else undefined: unknown. */
  readonly before: ((key: string) => string) | undefined;
  /** Former homes that handed their directory over: their keys wait no more. */
  readonly handedOff: Set<string>;
}

/** A change of map that made this node the home of keys: whom to ask for their directory entries. */
export interface Takeover {
  readonly epoch: number;
  /** The nodes that may have been the home of a key this node gained (up under the map before). */
  readonly from: readonly string[];
}

/** Options of a {@link HomeRouter}. */
export interface HomeRouterOptions {
  readonly id: string;
  /** Every member, this one included. */
  readonly members: readonly string[];
  /** Every member in `key`'s preference order (the ring's list, all members long). */
  readonly preferenceOf: (key: string) => readonly string[];
  /** One hold period, ms: how long the grants of a former home may still be served. */
  readonly holdMs: number;
  readonly now: () => number;
  /** The map at start-up. @default {@link INITIAL_VIEW} */
  readonly view?: HomeView;
  /** This node may have been a home before (a restart): every key it homes waits one hold period first. @default false */
  readonly restarted?: boolean;
  /** Told of each newer map learnt right after the one before: the former homes may hand their directories over. */
  readonly onTakeover?: (t: Takeover) => void;
}

/**
 * This node's view of the home map: each key's home, and the grace periods of the keys it
 * gained. A key it gained waits one hold period — unless its former home hands its directory
 * entries over first (`handedOff`): they list every copy that home granted, so the new home can
 * invalidate them as its own.
 */
export class HomeRouter {
  readonly id: string;
  #view: HomeView;
  #down: ReadonlySet<string>;
  readonly #o: HomeRouterOptions;
  #graces: Grace[] = [];
  /** Woken when a grace ends early (a hand-over). */
  #wake = new Set<() => void>();

  constructor(o: HomeRouterOptions) {
    this.#o = o;
    this.id = o.id;
    this.#view = o.view ?? INITIAL_VIEW;
    this.#down = new Set(this.#view.down);
    if (o.restarted === true) this.#graces.push({ until: o.now() + o.holdMs, cause: 'restart', epoch: this.#view.epoch, before: undefined, handedOff: new Set() });
  }

  get view(): HomeView {
    return this.#view;
  }

  /** The home of `key` under `view` (this node's view by default). */
  homeOf(key: string, view: { down: ReadonlySet<string> } = { down: this.#down }): string {
    const list = this.#o.preferenceOf(key);
    if (view.down.size === 0) return list[0] as string;
    // Every node down is not a state a map can reach (a node marks down only others, and only
    // while up itself); the first of the list stands in.
    return list.find((n) => !view.down.has(n)) ?? (list[0] as string);
  }

  /**
   * Takes a map read from the store or named by a refusal. A newer one replaces this node's:
   * the keys it makes this node the home of wait one hold period (all its keys, when maps were
   * missed in between). True when it was newer.
   */
  learn(view: HomeView): boolean {
    if (view.epoch <= this.#view.epoch) return false;
    const before = this.#view;
    const beforeDown = { down: this.#down };
    const now = this.#o.now();
    const consecutive = view.epoch === before.epoch + 1;
    this.#view = { epoch: view.epoch, down: [...view.down].sort() };
    this.#down = new Set(view.down);
    this.#graces = this.#graces.filter((g) => g.until > now);
    this.#graces.push({
      until: now + this.#o.holdMs,
      cause: 'map',
      epoch: view.epoch,
      before: consecutive ? (key) => this.homeOf(key, beforeDown) : undefined,
      handedOff: new Set(),
    });
    // Operations waiting out a grace look again: a key may no longer be this node's.
    for (const wake of this.#wake) wake();
    if (consecutive) {
      // A key this node gains had for home a node up before: any of them if this node itself came
      // back up, else one this change marked down (nothing else moves a key past an up node).
      const cameUp = beforeDown.down.has(this.id) && !this.#down.has(this.id);
      const from = this.#o.members.filter((n) => n !== this.id && !beforeDown.down.has(n) && (cameUp || this.#down.has(n)));
      if (from.length > 0) this.#o.onTakeover?.({ epoch: view.epoch, from: [...from].sort() });
    }
    return true;
  }

  /** `from`, the home of some keys under the map before `epoch`, handed over its directory entries of the keys this node gained: they wait no more. */
  handedOff(epoch: number, from: string): void {
    const g = this.#graces.find((x) => x.cause === 'map' && x.epoch === epoch && x.before !== undefined);
    if (g === undefined) return;
    g.handedOff.add(from);
    for (const wake of this.#wake) wake();
  }

  /** How long `key` must wait before this node serves it as its home, ms (0: at once). */
  graceLeft(key: string): number {
    const now = this.#o.now();
    let left = 0;
    for (const g of this.#graces) {
      if (g.until - now <= left) continue;
      if (g.cause === 'map' && FP['cache.failover-no-grace']) continue;
      const waits = g.before === undefined ? true : ((prev) => prev !== this.id && !g.handedOff.has(prev))(g.before(key));
      if (waits) left = g.until - now;
    }
    return left;
  }

  /** Waits `ms`, or less if a grace ends early meanwhile. */
  async pause(ms: number): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    this.#wake.add(wake);
    const ac = new AbortController();
    try {
      await Promise.race([sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined), woken]);
    } finally {
      ac.abort();
      this.#wake.delete(wake);
    }
  }
}
