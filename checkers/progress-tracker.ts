/**
 * The progress of one linearizability check, as partitions start, report explored counts and
 * finish; it hands {@link CheckProgress} snapshots to a callback at most every `everyMs`.
 */
import type { CheckProgress } from './checker.js';

/** Tracks a check's progress and reports it, throttled. */
export class ProgressTracker {
  readonly #total: number;
  readonly #report: ((p: CheckProgress) => void) | undefined;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #start: number;
  readonly #running = new Map<number, { key: string; explored: number }>();
  #done = 0;
  #exploredDone = 0;
  #last: number;

  constructor(o: { total: number; report: ((p: CheckProgress) => void) | undefined; everyMs: number; now: () => number }) {
    this.#total = o.total;
    this.#report = o.report;
    this.#everyMs = o.everyMs;
    this.#now = o.now;
    this.#start = o.now();
    this.#last = this.#start;
  }

  /** Whether anyone listens (callers skip the bookkeeping otherwise). */
  get active(): boolean {
    return this.#report !== undefined;
  }

  /** Partition `i` (key `key`, in EDN text) started its search. */
  started(i: number, key: string): void {
    this.#running.set(i, { key, explored: 0 });
  }

  /** Partition `i` has explored `explored` configurations; reports if it is time to. */
  explored(i: number, explored: number): void {
    const r = this.#running.get(i);
    if (r !== undefined) r.explored = explored;
    this.maybeReport();
  }

  /** Partition `i` has its verdict after exploring `explored` configurations. */
  finished(i: number, explored: number): void {
    this.#running.delete(i);
    this.#done++;
    this.#exploredDone += explored;
    this.maybeReport();
  }

  /** The progress now. */
  snapshot(): CheckProgress {
    let explored = this.#exploredDone;
    for (const r of this.#running.values()) explored += r.explored;
    return { done: this.#done, total: this.#total, current: [...this.#running.values()].map((r) => r.key), explored, elapsedMs: this.#now() - this.#start };
  }

  /** Reports the progress if `everyMs` passed since the last report. */
  maybeReport(): void {
    if (this.#report === undefined) return;
    const t = this.#now();
    if (t - this.#last < this.#everyMs) return;
    this.#last = t;
    this.#report(this.snapshot());
  }
}
