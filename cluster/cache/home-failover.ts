/**
 * The failure detector that moves a dead home's keys to the next node of their preference lists
 * (`home-map.ts` says why that is safe). Every `probeMs` each node reads the home map from main
 * memory and pings the other members; then
 *
 * - a node that is up, and reaches a majority of the members (itself included), marks down one
 *   member it has not heard from for `afterMs`;
 * - a node marked down that reaches every member still up marks itself up again.
 *
 * Each change is a compare-and-swap of the map's epoch, so two nodes never both make a change
 * from the same map. The majority rule keeps a node cut off alone from taking every key; the
 * "every member up" rule keeps a node half cut off (a bridge) from flapping in and out.
 */

import { errorMessage } from '../errors.js';
import type { Fencing, HomeRouter, HomeView } from './home-map.js';

/** Options of a {@link FailoverMonitor}. */
export interface FailoverOptions {
  readonly id: string;
  /** Every member, this one included. */
  readonly members: readonly string[];
  readonly fencing: Fencing;
  readonly router: HomeRouter;
  /** Whether `node` answers within `timeoutMs`. */
  readonly ping: (node: string, timeoutMs: number) => Promise<boolean>;
  /** A member not heard from for this long is marked down, ms. */
  readonly afterMs: number;
  /** How often the map is read and the members pinged, ms. */
  readonly probeMs: number;
  readonly now: () => number;
  readonly onEvent: (event: string, fields: Record<string, unknown>) => void;
}

/** Watches the members and changes the home map when one dies or comes back. */
export class FailoverMonitor {
  /** Changes of the map this node made. */
  changes = 0;
  readonly #o: FailoverOptions;
  readonly #lastHeard = new Map<string, number>();
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #readFailing = false;
  #stopped = false;

  constructor(o: FailoverOptions) {
    if (!(o.afterMs > 0 && o.probeMs > 0)) throw new RangeError(`afterMs and probeMs must be positive, got ${o.afterMs} and ${o.probeMs}`);
    this.#o = o;
    this.#startedAt = o.now();
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => {
      this.#ticking ??= this.tick().finally(() => (this.#ticking = undefined));
    }, this.#o.probeMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#ticking;
  }

  /** Whether `node` was heard from within `afterMs` (counting from this monitor's start). */
  reachable(node: string, now = this.#o.now()): boolean {
    if (node === this.#o.id) return true;
    return now - Math.max(this.#lastHeard.get(node) ?? -Infinity, this.#startedAt) < this.#o.afterMs;
  }

  /** One round: read the map, ping the others, make at most one change. */
  async tick(): Promise<void> {
    const { id, members, fencing, router } = this.#o;
    const others = members.filter((m) => m !== id);
    const timeout = Math.max(50, Math.min(this.#o.afterMs / 2, 1000));
    const [view] = await Promise.all([
      fencing.read().then(
        (v) => {
          if (this.#readFailing) this.#o.onEvent('home-map-read-ok', { epoch: v.epoch });
          this.#readFailing = false;
          return v;
        },
        (e: unknown) => {
          if (!this.#readFailing) this.#o.onEvent('home-map-read-failed', { err: errorMessage(e) });
          this.#readFailing = true;
          return null;
        },
      ),
      ...others.map(async (m) => {
        const sent = this.#o.now();
        if (await this.#o.ping(m, timeout).catch(() => false)) this.#lastHeard.set(m, Math.max(sent, this.#lastHeard.get(m) ?? -Infinity));
      }),
    ]);
    if (view === null || this.#stopped) return;
    router.learn(view);
    const current = router.view;
    const change = this.#decide(current);
    if (change === undefined) return;
    const swapped = await fencing.swap(current.epoch, change.down).catch((e: unknown) => {
      this.#o.onEvent('home-map-swap-failed', { err: errorMessage(e) });
      return null;
    });
    if (swapped === null) return;
    this.changes++;
    router.learn(swapped);
    this.#o.onEvent('home-map-changed', { epoch: swapped.epoch, down: swapped.down, why: change.why });
  }

  /** The change this node should make to `view`, if any. */
  #decide(view: HomeView): { down: string[]; why: string } | undefined {
    const { id, members } = this.#o;
    const now = this.#o.now();
    const down = new Set(view.down);
    const reached = members.filter((m) => this.reachable(m, now));
    if (down.has(id)) {
      const up = members.filter((m) => !down.has(m));
      if (reached.length * 2 > members.length && up.every((m) => this.reachable(m, now))) {
        return { down: [...down].filter((m) => m !== id), why: `${id} is back: it reaches every member up` };
      }
      return undefined;
    }
    if (reached.length * 2 <= members.length) return undefined;
    const dead = members.find((m) => !down.has(m) && !this.reachable(m, now));
    if (dead === undefined) return undefined;
    return { down: [...down, dead], why: `${id} has not heard from ${dead} for ${this.#o.afterMs} ms` };
  }
}
