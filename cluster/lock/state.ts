/**
 * The lock table's state: the mutable records it keeps per lock, and their snapshot, a plain
 * JSON value from which a replica rebuilds exactly the same state.
 */
import { MAX_ID_LENGTH, SECRET_HASH, type LockMode } from './commands.js';

/** A client holding a lock. */
export interface Holder {
  readonly client: string;
  readonly token: number;
  expiresAt: number;
  /** SHA-256 (hex) of the grant's secret; absent for grants of older logs. Never shown to clients. */
  secretHash?: string;
}

/** A client waiting in a lock's queue. */
export interface Waiter {
  readonly client: string;
  readonly mode: LockMode;
  /** The lease its grant will get. */
  readonly ttlMs: number;
  /** When it stops waiting (fails with `timeout` at the first tick at or after it). */
  readonly deadline: number;
  /** The log index of the acquire that queued it: the highest index is the youngest waiter. */
  readonly index: number;
  /** The secret hash its grant will carry. */
  secretHash?: string;
}

/** One lock that someone holds or waits for (idle locks are not kept). */
export interface LockEntry {
  /** The holders' mode; `null` when there are none. */
  mode: LockMode | null;
  /** In grant order. */
  readonly holders: Holder[];
  /** In queue order. */
  readonly waiters: Waiter[];
}

/** Everything a lock table knows, as plain JSON-serializable data. */
export interface LockSnapshot {
  readonly version: 1;
  /** The largest fencing token granted so far (0 before any grant). */
  readonly lastToken: number;
  /** The latest `now` seen in any command; `null` before any. */
  readonly clock: number | null;
  /** The non-idle locks, in the table's (insertion) order. */
  readonly locks: readonly {
    readonly name: string;
    readonly mode: LockMode | null;
    readonly holders: readonly { readonly client: string; readonly token: number; readonly expiresAt: number; readonly secretHash?: string }[];
    readonly waiters: readonly {
      readonly client: string;
      readonly mode: LockMode;
      readonly ttlMs: number;
      readonly deadline: number;
      readonly index: number;
      readonly secretHash?: string;
    }[];
  }[];
}

/** The state a table is made of. */
export interface TableState {
  readonly locks: Map<string, LockEntry>;
  /** Which lock each waiting client waits for (a client waits for at most one). */
  readonly waiting: Map<string, string>;
  lastToken: number;
  clock: number | null;
}

/** A deep copy of `state` as a snapshot. */
export function toSnapshot(state: TableState): LockSnapshot {
  return {
    version: 1,
    lastToken: state.lastToken,
    clock: state.clock,
    locks: [...state.locks].map(([name, lock]) => ({
      name,
      mode: lock.mode,
      holders: lock.holders.map((h) => ({ client: h.client, token: h.token, expiresAt: h.expiresAt, ...withHash(h.secretHash) })),
      waiters: lock.waiters.map((w) => ({ client: w.client, mode: w.mode, ttlMs: w.ttlMs, deadline: w.deadline, index: w.index, ...withHash(w.secretHash) })),
    })),
  };
}

/** `{secretHash}` when there is one: absent fields stay absent, so older snapshots compare equal. */
export function withHash(secretHash: string | undefined): { secretHash?: string } {
  return secretHash === undefined ? {} : { secretHash };
}

function hash(v: unknown, path: string): { secretHash?: string } {
  if (v === undefined) return {};
  if (typeof v !== 'string' || !SECRET_HASH.test(v)) fail(path, 'must be 64 lowercase hex digits');
  return { secretHash: v };
}

function fail(path: string, reason: string): never {
  throw new TypeError(`invalid lock snapshot: ${path} ${reason}`);
}

function num(v: unknown, path: string, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
    fail(path, `must be a finite ${integer ? 'integer' : 'number'}`);
  }
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) fail(path, 'must be a non-empty string');
  return v;
}

function lockMode(v: unknown, path: string): LockMode {
  if (v !== 'exclusive' && v !== 'shared') fail(path, 'must be "exclusive" or "shared"');
  return v;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function record(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  return v as Record<string, unknown>;
}

/**
 * The state a snapshot describes, as fresh records (nothing shared with `snapshot`).
 * @throws TypeError when the snapshot is malformed or breaks an invariant of the table.
 */
export function fromSnapshot(snapshot: unknown): TableState {
  const s = record(snapshot, 'snapshot');
  if (s['version'] !== 1) fail('version', 'must be 1');
  const state: TableState = {
    locks: new Map(),
    waiting: new Map(),
    lastToken: num(s['lastToken'], 'lastToken', true),
    clock: s['clock'] === null ? null : num(s['clock'], 'clock'),
  };
  array(s['locks'], 'locks').forEach((l, i) => {
    const at = `locks[${i}]`;
    const o = record(l, at);
    const name = str(o['name'], `${at}.name`);
    if (state.locks.has(name)) fail(`${at}.name`, 'repeats a lock');
    const holders = array(o['holders'], `${at}.holders`).map((h, j): Holder => {
      const r = record(h, `${at}.holders[${j}]`);
      return {
        client: str(r['client'], `${at}.holders[${j}].client`),
        token: num(r['token'], `${at}.holders[${j}].token`, true),
        expiresAt: num(r['expiresAt'], `${at}.holders[${j}].expiresAt`),
        ...hash(r['secretHash'], `${at}.holders[${j}].secretHash`),
      };
    });
    const waiters = array(o['waiters'], `${at}.waiters`).map((w, j): Waiter => {
      const p = `${at}.waiters[${j}]`;
      const r = record(w, p);
      const waiter: Waiter = {
        client: str(r['client'], `${p}.client`),
        mode: lockMode(r['mode'], `${p}.mode`),
        ttlMs: num(r['ttlMs'], `${p}.ttlMs`),
        deadline: num(r['deadline'], `${p}.deadline`),
        index: num(r['index'], `${p}.index`, true),
        ...hash(r['secretHash'], `${p}.secretHash`),
      };
      if (state.waiting.has(waiter.client)) fail(`${p}.client`, 'already waits for another lock');
      state.waiting.set(waiter.client, name);
      return waiter;
    });
    holders.forEach((h, j) => {
      if (holders.findIndex((x) => x.client === h.client) !== j) fail(`${at}.holders[${j}].client`, 'holds the lock twice');
      if (h.token < 1 || h.token > state.lastToken) fail(`${at}.holders[${j}].token`, 'must be between 1 and lastToken');
    });
    const mode = o['mode'] === null ? null : lockMode(o['mode'], `${at}.mode`);
    if ((mode === null) !== (holders.length === 0)) fail(`${at}.mode`, 'must be null exactly when there are no holders');
    if (mode === 'exclusive' && holders.length > 1) fail(`${at}.holders`, 'has several exclusive holders');
    if (holders.length === 0 && waiters.length === 0) fail(at, 'is idle');
    state.locks.set(name, { mode, holders, waiters });
  });
  return state;
}
