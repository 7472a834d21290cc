/**
 * The embedded store's log file: how a put or a delete is encoded as a record, and the recovery
 * that reads the file back into a map at start-up.
 *
 * The file (`cache.log`) is records as `record-file.ts` frames them (`[u32 length][u32 crc32]
 * [payload]`), back to back. A payload is `[u8 op][u16 LE key length][key][value]`, UTF-8, with
 * op `P` (put; the value is the rest of the payload) or `D` (delete; nothing after the key).
 * Replaying the records in order gives the map; a compacted file is one put per live key.
 *
 * What a crash can leave, and what recovery does about it — the Raft log's rules
 * (`storage-recovery.ts`):
 * - a stale `cache.log.tmp` of a compaction that never got renamed: deleted;
 * - a torn last record: the file is truncated there (and fsynced). Its put or delete never
 *   resolved, since the store answers only after the fdatasync covering the record;
 * - a zero-filled tail (space preallocated ahead of the appends): kept, appends go on inside it.
 * A bad record with a good one after it is damage, not a crash, and so is a record that passes
 * its CRC but does not decode: recovery refuses to start ({@link CacheLogCorruptError}) rather
 * than drop the values after it, which callers were told are durable.
 */
import { join } from 'node:path';
import type { FileIo, IoFile } from '../raft/file-io.js';
import { findRecordAfter, HEADER_BYTES, onFile, openLogForAppend, readOptional, scanRecords, TEMP_SUFFIX, type SyncStats } from '../raft/record-file.js';
import { makeDir } from '../raft/storage-recovery.js';

/** The log file's name in the store's dir. */
export const LOG_FILE = 'cache.log';

const PUT = 0x50; // 'P'
const DELETE = 0x44; // 'D'
/** Bytes of a payload before the key: op and key length. */
const PREFIX_BYTES = 3;

/** The log is damaged before its end, or holds a record that is not ours. */
export class CacheLogCorruptError extends Error {
  readonly code = 'ECACHELOGCORRUPT';
  constructor(
    readonly path: string,
    readonly offset: number,
    what: string,
  ) {
    super(`${path} is corrupt at byte ${offset}: ${what}; refusing to start rather than drop the values after it, which were acknowledged as durable. Move the file away to start with an empty store`);
    this.name = 'CacheLogCorruptError';
  }
}

/** The bytes the record of a put takes in the file, header included: a key's share of a compacted log. */
export function putRecordBytes(keyBytes: number, valueBytes: number): number {
  return HEADER_BYTES + PREFIX_BYTES + keyBytes + valueBytes;
}

/** The payload of a put (`value` a string) or a delete (`value` null); the lengths are the UTF-8 lengths. */
export function encodeChange(key: string, keyBytes: number, value: string | null, valueBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(PREFIX_BYTES + keyBytes + (value === null ? 0 : valueBytes));
  buf.writeUInt8(value === null ? DELETE : PUT, 0);
  buf.writeUInt16LE(keyBytes, 1);
  buf.write(key, PREFIX_BYTES, keyBytes, 'utf8');
  if (value !== null) buf.write(value, PREFIX_BYTES + keyBytes, valueBytes, 'utf8');
  return buf;
}

/** A put or a delete back from its payload, or a string saying why it is not one. */
export function decodeChange(payload: Buffer): { key: string; value: string | null } | string {
  if (payload.length < PREFIX_BYTES) return `a ${payload.length}-byte payload (at least ${PREFIX_BYTES} expected)`;
  const op = payload.readUInt8(0);
  const keyBytes = payload.readUInt16LE(1);
  const keyEnd = PREFIX_BYTES + keyBytes;
  if (keyBytes === 0 || keyEnd > payload.length) return `a key length of ${keyBytes} in a ${payload.length}-byte payload`;
  const key = payload.toString('utf8', PREFIX_BYTES, keyEnd);
  if (op === PUT) return { key, value: payload.toString('utf8', keyEnd) };
  if (op === DELETE && keyEnd === payload.length) return { key, value: null };
  return op === DELETE ? 'a delete with bytes after its key' : `unknown op 0x${op.toString(16)}`;
}

/** The store's contents and its log file as recovery leaves them. */
export interface RecoveredLog {
  /** Every key with its value. */
  readonly map: Map<string, string>;
  /** The bytes the map would take as a compacted log ({@link putRecordBytes} of each entry). */
  readonly liveBytes: number;
  /** The log, open read-write. */
  readonly handle: IoFile;
  /** The end of the last good record: where the next append goes. */
  readonly size: number;
  /** The file's size: from `size` on it is zeros (preallocated). */
  readonly allocated: number;
  /** Human-readable notes of what recovery repaired (a torn tail it cut, a temp file it removed). */
  readonly repaired: string[];
}

/** Recovers the store's dir `dir` (an absolute path), creating it if needed, and opens the log. */
export async function recoverLog(dir: string, stats: SyncStats, io: FileIo): Promise<RecoveredLog> {
  const repaired: string[] = [];
  await makeDir(dir, stats, io);
  const names = await onFile(dir, () => io.readdir(dir));
  const tmp = join(dir, LOG_FILE + TEMP_SUFFIX);
  if (names.includes(LOG_FILE + TEMP_SUFFIX)) {
    await onFile(tmp, () => io.unlink(tmp));
    repaired.push(`removed ${LOG_FILE}${TEMP_SUFFIX}, left by an interrupted compaction`);
  }

  const path = join(dir, LOG_FILE);
  const buf = await readOptional(path, io);
  const bytes = buf ?? Buffer.alloc(0);
  const scan = scanRecords(bytes);
  const map = new Map<string, string>();
  for (const r of scan.records) {
    const change = decodeChange(r.payload);
    if (typeof change === 'string') throw new CacheLogCorruptError(path, r.offset, `a record that passes its CRC but is not a put or a delete (${change})`);
    if (change.value === null) map.delete(change.key);
    else map.set(change.key, change.value);
  }
  let liveBytes = 0;
  for (const [k, v] of map) liveBytes += putRecordBytes(Buffer.byteLength(k), Buffer.byteLength(v));

  const { end } = scan;
  let problem = scan.problem;
  const zeroTail = problem !== null && bytes.subarray(end).every((b) => b === 0);
  if (zeroTail) problem = null;
  if (problem !== null) {
    const next = findRecordAfter(bytes, end);
    if (next !== null) throw new CacheLogCorruptError(path, end, `${problem}, with a good record at byte ${next} after it (not a torn tail)`);
    repaired.push(`${LOG_FILE}: ${problem}; truncated the file there, dropping ${bytes.length - end} bytes (a write that never completed)`);
  }

  const handle = await openLogForAppend(path, dir, { truncateTo: problem !== null ? end : null, created: buf === null, stats, io });
  return { map, liveBytes, handle, size: end, allocated: zeroTail ? bytes.length : end, repaired };
}
