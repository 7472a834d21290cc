/**
 * The on-disk format of a Raft data dir: its file names, and how entries, the hard state and the
 * snapshot are encoded (JSON payloads inside framed records, see `record-file.ts`) and checked.
 */
import type { HardState, LogEntry, Snapshot, SnapshotMeta } from './types.js';

/** The append-only log of framed entries. */
export const LOG_FILE = 'raft.log';
/** The hard state (term and vote): one framed record, replaced atomically. */
export const HARD_STATE_FILE = 'hard-state.dat';
/** The latest snapshot (`{meta, data}`): one framed record, replaced atomically. */
export const SNAPSHOT_FILE = 'snapshot.dat';

/** A value on disk that is well framed (its CRC matched) but does not decode: a bug or a foreign file. */
export class StorageFormatError extends Error {
  readonly code = 'BAD_RAFT_STORAGE';
  constructor(message: string) {
    super(message);
    this.name = 'StorageFormatError';
  }
}

const isIndex = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 1;
const isTerm = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Throws a TypeError naming the problem unless `e` is a well-formed entry. */
export function checkEntry(e: LogEntry, what: string): void {
  if (!isObject(e)) throw new TypeError(`${what}: an entry must be an object, got ${JSON.stringify(e)}`);
  if (!isIndex(e.index)) throw new TypeError(`${what}: entry index must be an integer >= 1, got ${String(e.index)}`);
  if (!isTerm(e.term)) throw new TypeError(`${what}: entry term must be an integer >= 0, got ${String(e.term)}`);
}

/** Throws a TypeError naming the problem unless `hard` is a well-formed hard state. */
export function checkHardState(hard: HardState): void {
  if (!isObject(hard) || !isTerm(hard.term)) throw new TypeError(`saveHardState: term must be an integer >= 0, got ${String(hard?.term)}`);
  if (hard.vote !== null && typeof hard.vote !== 'string') throw new TypeError(`saveHardState: vote must be a string or null, got ${String(hard.vote)}`);
}

/** Throws a TypeError naming the problem unless `meta` is a well-formed snapshot position. */
export function checkSnapshotMeta(meta: SnapshotMeta): void {
  if (!isObject(meta) || !isTerm(meta.index)) throw new TypeError(`saveSnapshot: meta.index must be an integer >= 0, got ${String(meta?.index)}`);
  if (!isTerm(meta.term)) throw new TypeError(`saveSnapshot: meta.term must be an integer >= 0, got ${String(meta.term)}`);
}

/** JSON of a value as a buffer; `undefined` (which JSON cannot hold) is written as null. */
function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
}

function parse(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new StorageFormatError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The payload of a log entry. */
export function encodeEntry(e: LogEntry): Buffer {
  return json({ index: e.index, term: e.term, data: e.data ?? null });
}

/** A log entry back from its payload. @throws StorageFormatError */
export function decodeEntry(payload: Buffer, what: string): LogEntry {
  const v = parse(payload, what);
  if (!isObject(v) || !isIndex(v.index) || !isTerm(v.term)) throw new StorageFormatError(`${what} is not a log entry`);
  return { index: v.index, term: v.term, data: v.data ?? null };
}

/** The payload of the hard-state file. */
export function encodeHardState(hard: HardState): Buffer {
  return json({ term: hard.term, vote: hard.vote });
}

/** The hard state back from its payload. @throws StorageFormatError */
export function decodeHardState(payload: Buffer, what: string): HardState {
  const v = parse(payload, what);
  if (!isObject(v) || !isTerm(v.term) || (v.vote !== null && typeof v.vote !== 'string')) throw new StorageFormatError(`${what} is not a hard state`);
  return { term: v.term, vote: v.vote };
}

/** The payload of the snapshot file. */
export function encodeSnapshot(meta: SnapshotMeta, data: unknown): Buffer {
  return json({ meta: { index: meta.index, term: meta.term }, data: data ?? null });
}

/** A snapshot back from its payload. @throws StorageFormatError */
export function decodeSnapshot(payload: Buffer, what: string): Snapshot {
  const v = parse(payload, what);
  if (!isObject(v) || !isObject(v.meta) || !isTerm(v.meta.index) || !isTerm(v.meta.term)) throw new StorageFormatError(`${what} is not a snapshot`);
  return { meta: { index: v.meta.index, term: v.meta.term }, data: v.data ?? null };
}
