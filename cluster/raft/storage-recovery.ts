/**
 * Start-up recovery of a Raft data dir: reads the hard state, the snapshot and the log, repairs
 * what a crash can leave behind, and opens the log for appending.
 *
 * What a crash (or `kill -9`) can leave, and what recovery does about it:
 * - a stale `*.tmp` of an atomic write that never got renamed: deleted;
 * - a torn last record in `raft.log`: the file is truncated at the bad record and fsynced —
 *   those bytes were never acknowledged, since `append` resolves only after the fdatasync that
 *   covers them. A tail of nothing but zeros is the space appends preallocate: it is kept, and
 *   appends continue where the records end;
 * - a log still holding entries at or below the snapshot index (the crash came between writing
 *   the snapshot and compacting the log): the compaction is finished.
 * A bad record with a good record after it is not a torn tail but damage (a flipped bit, a bad
 * sector): the entries from there on may be committed, and cutting them would drop them
 * silently. Recovery refuses to start instead ({@link LogCorruptError}, naming the file and the
 * byte), as it does for records that pass their CRC but do not decode or follow their
 * predecessor; the node is then rebuilt from its peers (README, "Rebuilding a node").
 * The hard-state and snapshot files are only ever replaced by rename, so damage to them is not a
 * crash artifact: recovery refuses to guess (losing a vote breaks Raft's safety) and throws.
 */
import { dirname, join } from 'node:path';
import { realFileIo, type FileIo, type IoFile } from './file-io.js';
import { findRecordAfter, onFile, openLogForAppend, readOptional, scanRecords, syncDir, TEMP_SUFFIX, writeFileAtomic, type SyncStats } from './record-file.js';
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshot,
  HARD_STATE_FILE,
  LOG_FILE,
  SNAPSHOT_FILE,
  StorageFormatError,
} from './storage-format.js';
import type { RecoveredState } from './storage.js';
import type { LogEntry } from './types.js';

/** The log as recovery leaves it: open read-write, every byte of it a good record. */
export interface OpenedLog {
  readonly handle: IoFile;
  /** The end of the last good record: where the next append goes. */
  readonly size: number;
  /** The file's size: from `size` on it is zeros (space preallocated by appends). */
  readonly allocated: number;
  /** The byte offset of each entry in the file; the first entry's index is the snapshot index + 1. */
  readonly offsets: number[];
}

/** The log is damaged before its end: recovery will not cut entries that may be committed. */
export class LogCorruptError extends StorageFormatError {
  constructor(
    readonly path: string,
    readonly offset: number,
    what: string,
  ) {
    super(`${path} is corrupt at byte ${offset}: ${what}; refusing to start rather than drop the entries from there on, which may be committed. Rebuild this node from its peers: stop it, move its data dir away, start it with an empty one (see README, "Rebuilding a node")`);
    this.name = 'LogCorruptError';
  }
}

/** Recovers the data dir `dir` (an absolute path), creating it if needed. */
export async function recover(dir: string, stats: SyncStats, io: FileIo): Promise<{ recovered: RecoveredState; log: OpenedLog }> {
  const repaired: string[] = [];
  await makeDir(dir, stats, io);
  await removeTempFiles(dir, repaired, io);

  const hardPath = join(dir, HARD_STATE_FILE);
  const hardPayload = await readSingleRecord(hardPath, io);
  const hard = hardPayload === null ? { term: 0, vote: null } : decodeHardState(hardPayload, hardPath);
  const snapPath = join(dir, SNAPSHOT_FILE);
  const snapPayload = await readSingleRecord(snapPath, io);
  const snapshot = snapPayload === null ? null : decodeSnapshot(snapPayload, snapPath);
  const snapIndex = snapshot?.meta.index ?? 0;

  const logPath = join(dir, LOG_FILE);
  const buf = await readOptional(logPath, io);
  const bytes = buf ?? Buffer.alloc(0);
  const scan = scanRecords(bytes);
  const end = scan.end;
  let problem = scan.problem;
  const entries: LogEntry[] = [];
  let offsets: number[] = [];
  let previous: number | null = null;
  let dropped = 0;
  for (const r of scan.records) {
    let e: LogEntry;
    try {
      e = decodeEntry(r.payload, `the record at byte ${r.offset} of ${logPath}`);
    } catch (err) {
      // It passed its CRC, so no torn write made it: damage (or a bug), never cut quietly.
      throw new LogCorruptError(logPath, r.offset, `a record that passes its CRC but does not decode (${(err as Error).message})`);
    }
    // Truncation and compaction never leave an index out of order, so this is damage, not history.
    if (previous !== null && e.index !== previous + 1) {
      throw new LogCorruptError(logPath, r.offset, `entry ${e.index} does not follow entry ${previous}`);
    }
    previous = e.index;
    if (e.index <= snapIndex) {
      dropped++;
      continue;
    }
    if (entries.length === 0 && e.index !== snapIndex + 1) {
      throw new StorageFormatError(`${logPath} starts at entry ${e.index} but the snapshot ends at ${snapIndex}: entries in between are missing`);
    }
    entries.push(e);
    offsets.push(r.offset);
  }

  // A zero-filled tail is the space appends preallocate, not damage: keep it as it is.
  let zeroTail = false;
  if (problem !== null && end < bytes.length && bytes.subarray(end).equals(Buffer.alloc(bytes.length - end))) {
    problem = null;
    zeroTail = true;
  }
  if (problem !== null) {
    const next = findRecordAfter(bytes, end);
    if (next !== null) throw new LogCorruptError(logPath, end, `${problem}, with a good record at byte ${next} after it (not a torn tail)`);
  }
  if (problem !== null) repaired.push(`${LOG_FILE}: ${problem}; truncated the file there, dropping ${bytes.length - end} bytes`);
  const keepFrom = offsets[0] ?? end;
  if (keepFrom > 0) {
    await writeFileAtomic(logPath, bytes.subarray(keepFrom, end), stats, io);
    offsets = offsets.map((o) => o - keepFrom);
    repaired.push(`${LOG_FILE}: dropped ${dropped} entries at or below the snapshot index ${snapIndex} (finished an interrupted compaction)`);
  }
  const handle = await openLogForAppend(logPath, dir, { truncateTo: keepFrom === 0 && end < bytes.length && !zeroTail ? end : null, created: buf === null, stats, io });
  const allocated = keepFrom > 0 ? end - keepFrom : zeroTail ? bytes.length : end;
  return { recovered: { hard, snapshot, entries, repaired }, log: { handle, size: end - keepFrom, allocated, offsets } };
}

/** Creates `dir` and any missing parents, fsyncing each parent so the new names survive a crash. */
export async function makeDir(dir: string, stats: SyncStats, io: FileIo = realFileIo): Promise<void> {
  const created = await onFile(dir, () => io.mkdirp(dir));
  if (created === undefined) return;
  const top = dirname(created);
  for (let d = dir; ; d = dirname(d)) {
    await syncDir(dirname(d), stats, io);
    if (dirname(d) === top || dirname(d) === d) break;
  }
}

/** Deletes the temp files of atomic writes a crash interrupted. */
async function removeTempFiles(dir: string, repaired: string[], io: FileIo): Promise<void> {
  const names = await onFile(dir, () => io.readdir(dir));
  for (const file of [LOG_FILE, HARD_STATE_FILE, SNAPSHOT_FILE]) {
    const tmp = file + TEMP_SUFFIX;
    if (!names.includes(tmp)) continue;
    await onFile(join(dir, tmp), () => io.unlink(join(dir, tmp)));
    repaired.push(`removed ${tmp}, left by an interrupted write of ${file}`);
  }
}


/** The payload of a file holding exactly one record, or null when there is no such file. */
async function readSingleRecord(path: string, io: FileIo): Promise<Buffer | null> {
  const buf = await readOptional(path, io);
  if (buf === null) return null;
  const scan = scanRecords(buf);
  const only = scan.records[0];
  if (only === undefined || scan.records.length > 1 || scan.problem !== null) {
    const why = scan.problem ?? (only === undefined ? 'empty file' : 'more than one record');
    throw new StorageFormatError(`${path} is damaged (${why}); it is only ever replaced whole, so this is not a crash artifact: refusing to guess its contents`);
  }
  return only.payload;
}
