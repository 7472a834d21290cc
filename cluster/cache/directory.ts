/**
 * The home's directory: for each key it homes, who holds a copy, in which state, and until when
 * the home must assume the holder may still serve it (its lease, stretched by the clock-drift
 * bound). Operations on one key run one at a time (a per-key lock), so the directory moves from
 * one consistent state to the next; different keys go in parallel.
 */
import type { LineState } from './cache-protocol.js';

/** A holder as the home sees it. */
export interface Holder {
  state: LineState;
  /** `performance.now()` on the home after which the holder surely serves the copy no more. */
  until: number;
  /** The version it was granted at (a write-back is taken only from the copy the home last granted). */
  readonly version: number;
}

/** A key's directory entry. */
export interface DirectoryEntry {
  readonly holders: Map<string, Holder>;
}

/** The directory of one home. */
export class Directory {
  readonly #entries = new Map<string, DirectoryEntry>();
  readonly #locks = new Map<string, Promise<void>>();
  /** Per key, what the operation holding the lock wants waited for before the next one runs. */
  readonly #after = new Map<string, Promise<void>>();

  /** The entry of `key` (created empty). */
  entry(key: string): DirectoryEntry {
    let e = this.#entries.get(key);
    if (!e) this.#entries.set(key, (e = { holders: new Map() }));
    return e;
  }

  /** The entry of `key` if it has one. */
  peek(key: string): DirectoryEntry | undefined {
    return this.#entries.get(key);
  }

  /**
   * Forgets holders whose lease is surely over, and the entry once it has none — unless an
   * operation holds the key's lock: it may be about to add a holder to the entry it has in hand.
   */
  purge(key: string, now: number): void {
    const e = this.#entries.get(key);
    if (!e) return;
    for (const [node, h] of e.holders) if (h.until <= now) e.holders.delete(node);
    if (e.holders.size === 0 && !this.#locks.has(key)) this.#entries.delete(key);
  }

  /** Forgets every holder of every key whose lease is surely over (a periodic sweep). */
  purgeAll(now: number): void {
    for (const key of [...this.#entries.keys()]) this.purge(key, now);
  }

  /** Runs `fn` with `key`'s lock held: after every earlier call on that key has settled. */
  async withKey<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.#locks.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      const after = this.#after.get(key);
      this.#after.delete(key);
      const done = (): void => {
        release();
        if (this.#locks.get(key) === tail) this.#locks.delete(key);
      };
      if (after) void after.then(done, done);
      else done();
    }
  }

  /**
   * Called by the operation holding `key`'s lock: the lock passes to the next operation only
   * once `until` settles (the caller bounds it), though this one returns at once.
   */
  holdAfter(key: string, until: Promise<void>): void {
    this.#after.set(key, until);
  }

  /** Every key with an entry or an operation holding or awaiting its lock. */
  keys(): string[] {
    return [...new Set([...this.#entries.keys(), ...this.#locks.keys()])];
  }

  /** Keys with an entry. */
  get size(): number {
    return this.#entries.size;
  }
}
