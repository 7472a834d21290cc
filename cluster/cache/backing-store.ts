/**
 * The cache's main memory: the contract both backing stores fulfil (`embedded-store.ts`, the
 * node's own log file; `redis-store.ts`, a Redis server), and the checks of their arguments.
 *
 * Keys and values are strings; the store treats values as opaque (the cache keeps JSON text in
 * them). Every method returns a promise and never throws: a bad argument rejects it with a
 * `TypeError` or `RangeError` naming the field.
 */
import type { Fencing } from './home-map.js';

/** The cache's main memory: durable when a promise resolves. */
export interface BackingStore {
  /** Which implementation this is. */
  readonly kind: 'embedded' | 'redis';
  /**
   * The home map and the fenced calls (`home-map.ts`), when every node shares this store and a
   * dead home's keys can move to another node (Redis); absent for a store on one node's disk.
   */
  readonly fencing?: Fencing;
  /** The value, or null when the key has none. */
  get(key: string): Promise<string | null>;
  /**
   * Stores the value; resolves once it is durable (embedded: fdatasync'd; redis: answered by the
   * server, as durable as that server is configured to make it). A rejection is indefinite: the
   * value may or may not have been stored.
   */
  put(key: string, value: string): Promise<void>;
  /** Removes the key, durably as {@link put}; no error when it has no value. */
  delete(key: string): Promise<void>;
  /** The counters since the store was opened, for metrics and status pages. */
  stats(): BackingStoreStats;
  /** Waits for the calls in flight, then releases the file or the connection; later calls reject. */
  close(): Promise<void>;
}

/** The counters of a {@link BackingStore}. */
export interface BackingStoreStats {
  /** `get` calls answered. */
  readonly gets: number;
  /** `put` calls that resolved (their value is durable). */
  readonly puts: number;
  /** `delete` calls that resolved. */
  readonly deletes: number;
  /** fsync and fdatasync calls completed (embedded only; always 0 for Redis, whose server syncs). */
  readonly fsyncs: number;
  /** Calls that rejected, bad arguments included. */
  readonly errors: number;
}

/** The longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** The default limit of a value, in UTF-8 bytes: 1 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** The largest `maxValueBytes` accepted (the embedded log frames each record with a u32 length). */
const MAX_VALUE_BYTES_LIMIT = 512 * 1024 * 1024;

/** Matches a lone surrogate, which UTF-8 cannot carry (in `u` mode a proper pair is one code point). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks a key: a non-empty string of at most {@link MAX_KEY_BYTES} UTF-8 bytes with no lone
 * surrogate. Returns its UTF-8 length.
 * @throws TypeError when it is not a string; RangeError otherwise, naming `op` and the field
 */
export function checkKey(op: string, key: unknown): number {
  if (typeof key !== 'string') throw new TypeError(`${op}: key must be a string, got ${typeof key}`);
  if (key.length === 0) throw new RangeError(`${op}: key must not be empty`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw new RangeError(`${op}: key must be at most ${MAX_KEY_BYTES} UTF-8 bytes, got ${bytes}`);
  if (LONE_SURROGATE.test(key)) throw new RangeError(`${op}: key must be well-formed UTF-16 (it has a lone surrogate, which UTF-8 cannot store)`);
  return bytes;
}

/**
 * Checks a value: a string of at most `maxBytes` UTF-8 bytes with no lone surrogate (it would
 * come back as U+FFFD). Returns its UTF-8 length.
 * @throws TypeError when it is not a string; RangeError otherwise, naming `op` and the field
 */
export function checkValue(op: string, value: unknown, maxBytes: number): number {
  if (typeof value !== 'string') throw new TypeError(`${op}: value must be a string, got ${value === null ? 'null' : typeof value}`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) throw new RangeError(`${op}: value must be at most ${maxBytes} UTF-8 bytes (maxValueBytes), got ${bytes}`);
  if (LONE_SURROGATE.test(value)) throw new RangeError(`${op}: value must be well-formed UTF-16 (it has a lone surrogate, which UTF-8 cannot store)`);
  return bytes;
}

/**
 * The `maxValueBytes` option, defaulted to {@link DEFAULT_MAX_VALUE_BYTES}.
 * @throws RangeError unless it is an integer from 1 to 512 MiB
 */
export function checkMaxValueBytes(value: number | undefined): number {
  const v = value ?? DEFAULT_MAX_VALUE_BYTES;
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_VALUE_BYTES_LIMIT) {
    throw new RangeError(`maxValueBytes must be an integer from 1 to ${MAX_VALUE_BYTES_LIMIT}, got ${String(value)}`);
  }
  return v;
}
