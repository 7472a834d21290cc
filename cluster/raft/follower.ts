/**
 * The follower's side of replication: what an AppendEntries or InstallSnapshot from the leader of
 * the current term does to the log, and what to answer. Pure functions over the {@link RaftLog};
 * the core sends the answer and hands the truncation and the snapshot to its driver.
 */
import type { RaftLog } from './log.js';
import type { AppendRequest, Snapshot, SnapshotRequest } from './types.js';

/** The answer to the leader, and what the driver must do to the log on disk. */
export interface FollowerOutcome {
  readonly success: boolean;
  /** The last index this follower has (success), or a hint where to probe from (rejection). */
  readonly index: number;
  /** Entries from here on were replaced: truncate them on disk. */
  readonly truncateFrom?: number;
  /** The snapshot that replaced the whole log: persist and apply it. */
  readonly snapshot?: Snapshot;
}

/** Appends the leader's entries after checking that the logs match at `prevIndex`. */
export function followerAppend(log: RaftLog, m: AppendRequest): FollowerOutcome {
  let prevIndex = m.prevIndex;
  let prevTerm = m.prevTerm;
  let entries = m.entries;
  const base = log.snapshotMeta.index;
  if (prevIndex < base) {
    // The prefix up to our snapshot is committed, so it matches; skip it.
    entries = entries.filter((e) => e.index > base);
    prevIndex = base;
    prevTerm = log.snapshotMeta.term;
  }
  if (prevIndex > log.lastIndex() || log.term(prevIndex) !== prevTerm) {
    return { success: false, index: Math.min(log.lastIndex(), Math.max(prevIndex - 1, log.commit)) };
  }
  let truncateFrom: number | undefined;
  for (const e of entries) {
    const t = log.term(e.index);
    if (t === e.term) continue;
    if (t !== undefined && log.truncateFrom(e.index)) truncateFrom = Math.min(truncateFrom ?? Infinity, e.index);
    log.append(e);
  }
  const lastNew = prevIndex + entries.length;
  if (m.commit > log.commit) log.commit = Math.max(log.commit, Math.min(m.commit, lastNew));
  return { success: true, index: lastNew, ...(truncateFrom !== undefined ? { truncateFrom } : {}) };
}

/** Installs the leader's snapshot, unless the log already covers it. */
export function followerSnapshot(log: RaftLog, m: SnapshotRequest): FollowerOutcome {
  const meta = m.snapshot.meta;
  if (meta.index <= log.commit) return { success: true, index: log.commit };
  if (log.term(meta.index) === meta.term) {
    // We already have the entries it covers: just learn that they are committed.
    log.commit = meta.index;
    return { success: true, index: meta.index };
  }
  // Our log disagrees with the snapshot: it replaces the whole log, on disk too.
  log.restore(m.snapshot);
  return { success: true, index: meta.index, truncateFrom: meta.index + 1, snapshot: m.snapshot };
}
