/**
 * A node's cache lines: an LRU bounded in entries and in bytes (`lru-cache`), each line
 * Modified, Exclusive or Shared with its value, the version it was granted at and its lease;
 * plus the newest invalidation seen per key (a tombstone), so that a grant overtaken by the
 * invalidation of a later write is not installed.
 */
import { LRUCache } from 'lru-cache';
import type { LineState } from './cache-protocol.js';

/** One line. `value` is JSON text, or null when the key has no value (a cached absence). */
export interface Line {
  state: LineState;
  value: string | null;
  /** The incarnation of the home that granted it, and the version it was granted at. */
  readonly inc: number;
  readonly version: number;
  /** `performance.now()` when its lease ends: past it, the node serves it no more. */
  leaseUntil: number;
  /** Written here and not yet in the store (write-back only). */
  dirty: boolean;
}

/** Bounds of a {@link LineTable}. */
export interface LineTableOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** A line pushed out by the bounds (not one deleted or replaced). */
  readonly onEvict: (key: string, line: Line) => void;
}

interface Tomb {
  readonly inc: number;
  readonly version: number;
  /** `performance.now()` when it was set. */
  readonly at: number;
}

/** Bytes a line is charged: its key and value plus a fixed overhead. */
const lineBytes = (key: string, line: Line): number => 64 + key.length * 2 + (line.value?.length ?? 0) * 2;

/** A node's lines and tombstones. */
export class LineTable {
  readonly #lru: LRUCache<string, Line>;
  readonly #tombs = new Map<string, Tomb>();
  /** Per key, the newest downgrade seen: a grant no newer than it is installed Shared. */
  readonly #downgrades = new Map<string, Tomb>();

  constructor(o: LineTableOptions) {
    this.#lru = new LRUCache<string, Line>({
      max: o.maxEntries,
      maxSize: o.maxBytes,
      sizeCalculation: (line, key) => lineBytes(key, line),
      dispose: (line, key, reason) => {
        if (reason === 'evict') o.onEvict(key, line);
      },
    });
  }

  /** The line, marked as most recently used. */
  get(key: string): Line | undefined {
    return this.#lru.get(key);
  }

  /** The line, leaving the LRU order alone. */
  peek(key: string): Line | undefined {
    return this.#lru.peek(key);
  }

  set(key: string, line: Line): void {
    this.#lru.set(key, line);
  }

  /** Recomputes a line's size after its value changed in place. */
  resize(key: string, line: Line): void {
    this.#lru.set(key, line);
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Remembers that the write `version` of incarnation `inc` invalidated `key`. */
  tomb(key: string, inc: number, version: number, now: number): void {
    const t = this.#tombs.get(key);
    if (t && t.inc === inc && t.version >= version) return;
    this.#tombs.set(key, { inc, version, at: now });
  }

  /**
   * Remembers that the home downgraded `key` to Shared when its newest version was `version`
   * (a grant still on its way here was made before that, and must arrive downgraded).
   */
  downgrade(key: string, inc: number, version: number, now: number): void {
    const t = this.#downgrades.get(key);
    if (t && t.inc === inc && t.version >= version) return;
    this.#downgrades.set(key, { inc, version, at: now });
  }

  /** Whether a grant of `key` at (`inc`, `version`) was overtaken by a downgrade: it may be held Shared only. */
  downgraded(key: string, inc: number, version: number): boolean {
    const t = this.#downgrades.get(key);
    return t !== undefined && t.inc === inc && t.version >= version;
  }

  /**
   * Whether a grant of `key` at (`inc`, `version`) is older than what this node has seen from
   * the same incarnation: an invalidation of a later write, or a newer line.
   */
  outdated(key: string, inc: number, version: number): boolean {
    const t = this.#tombs.get(key);
    if (t && t.inc === inc && t.version > version) return true;
    const line = this.#lru.peek(key);
    return line !== undefined && line.inc === inc && line.version > version;
  }

  /** Drops tombstones older than `keepMs` (no grant that old can still be installed: its lease is over). */
  prune(now: number, keepMs: number): void {
    for (const [key, t] of this.#tombs) if (now - t.at > keepMs) this.#tombs.delete(key);
    for (const [key, t] of this.#downgrades) if (now - t.at > keepMs) this.#downgrades.delete(key);
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  get tombstones(): number {
    return this.#tombs.size + this.#downgrades.size;
  }

  /** Lines per state. */
  counts(): Record<LineState, number> {
    const n: Record<LineState, number> = { M: 0, E: 0, S: 0 };
    for (const line of this.#lru.values()) n[line.state]++;
    return n;
  }
}
