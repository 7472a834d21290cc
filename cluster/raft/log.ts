/**
 * The in-memory Raft log of one member: the snapshot it starts from, the entries after it, and
 * which of them are durable (stable), committed and applied.
 */
import type { LogEntry, Snapshot, SnapshotMeta } from './types.js';
import { FP } from '../failpoints.js';

/** The log, with the indices Raft reasons about. Invariant: applied ≤ commit, applied ≤ stable. */
export class RaftLog {
  /** The snapshot the entries follow (index 0, term 0 when there is none). */
  snapshot: Snapshot;
  /** Entries with index snapshot.meta.index + 1, + 2, ... */
  entries: LogEntry[];
  /** The highest index known durable on this member's disk. */
  stable: number;
  /**
   * The highest index handed to the driver to persist (≥ `stable` once the write is done): a
   * leader may advance past a Ready before its entries are durable (see `RaftCore.advance`).
   */
  handedOut: number;
  commit: number;
  applied: number;

  constructor(snapshot: Snapshot | null, entries: readonly LogEntry[]) {
    this.snapshot = snapshot ?? { meta: { index: 0, term: 0 }, data: null };
    const base = this.snapshot.meta.index;
    this.entries = entries.filter((e) => e.index > base);
    this.entries.forEach((e, i) => {
      if (e.index !== base + 1 + i) throw new Error(`raft log: entry ${e.index} is not contiguous after ${base + i}`);
    });
    this.stable = this.lastIndex();
    this.handedOut = this.stable;
    this.commit = base;
    this.applied = base;
  }

  get snapshotMeta(): SnapshotMeta {
    return this.snapshot.meta;
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length;
  }

  lastTerm(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.term : this.snapshot.meta.term;
  }

  /** The term of the entry at `index`, or undefined if it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    const base = this.snapshot.meta.index;
    if (index === base) return this.snapshot.meta.term;
    if (index < base || index > this.lastIndex()) return undefined;
    return (this.entries[index - base - 1] as LogEntry).term;
  }

  /** Entries in [from, to], at most `max` of them (from must be above the snapshot). */
  slice(from: number, to: number, max = Infinity): LogEntry[] {
    const base = this.snapshot.meta.index;
    const end = Math.min(to, this.lastIndex(), from + max - 1);
    if (from > end) return [];
    return this.entries.slice(from - base - 1, end - base);
  }

  /** Is a log ending at (lastIndex, lastTerm) at least as up to date as this one? (Raft §5.4.1) */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Removes entries with index ≥ `index`. Returns true if removed entries are durable or being
   * made durable (handed out): the disk must drop them too.
   */
  truncateFrom(index: number): boolean {
    if (index <= this.commit) throw new Error(`raft log: refusing to truncate committed entry ${index} (commit ${this.commit})`);
    const base = this.snapshot.meta.index;
    this.entries.length = Math.max(0, index - base - 1);
    const onDisk = Math.max(this.stable, this.handedOut) >= index;
    this.stable = Math.min(this.stable, index - 1);
    this.handedOut = Math.min(this.handedOut, index - 1);
    return onDisk;
  }

  append(entry: LogEntry): void {
    if (entry.index !== this.lastIndex() + 1) throw new Error(`raft log: appending ${entry.index} after ${this.lastIndex()}`);
    this.entries.push(entry);
  }

  /** Entries not yet durable nor handed out to be persisted. */
  unstable(): LogEntry[] {
    return this.slice(Math.max(this.stable, this.handedOut) + 1, this.lastIndex());
  }

  /** Are there committed, durable entries not yet applied? */
  hasToApply(): boolean {
    return Math.min(this.#applyTo(), this.stable) > this.applied;
  }

  /** Committed, durable entries not yet applied. */
  toApply(): LogEntry[] {
    return this.slice(this.applied + 1, Math.min(this.#applyTo(), this.stable));
  }

  /** How far entries may be applied: the commit index. */
  #applyTo(): number {
    // FAILPOINT raft.apply-uncommitted: up to the last entry, committed or not.
    return FP['raft.apply-uncommitted'] ? this.lastIndex() : this.commit;
  }

  /** Drops entries up to `meta.index`, which the state-machine snapshot `data` covers. */
  compact(meta: SnapshotMeta, data: unknown): void {
    const base = this.snapshot.meta.index;
    if (meta.index <= base) return;
    this.entries = this.entries.slice(meta.index - base);
    this.snapshot = { meta, data };
  }

  /** Replaces everything with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = [];
    this.stable = snapshot.meta.index;
    this.handedOut = snapshot.meta.index;
    this.commit = snapshot.meta.index;
    this.applied = snapshot.meta.index;
  }
}
