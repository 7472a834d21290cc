/**
 * The lock table's public types: the commands a Raft log replicates, their results, the events
 * one command causes for other clients, and the validation of commands arriving from clients.
 *
 * Commands carry every input the state machine needs — in particular `now`, the leader's clock
 * when it proposed the command — so that every replica applying the same log reaches the same
 * state without reading a clock of its own.
 */

/** How a lock is held: by any number of `shared` holders, or by one `exclusive` holder. */
export type LockMode = 'exclusive' | 'shared';

/**
 * A command, as replicated in the log. `now` is the leader's clock (ms) when it proposed the
 * command: the state machine never reads a clock.
 */
export type LockCommand =
  | {
      readonly type: 'acquire';
      readonly name: string;
      readonly client: string;
      readonly mode: LockMode;
      /** The lease: how long the grant lasts unless renewed. */
      readonly ttlMs: number;
      /** How long to wait in the queue; 0 makes it a try-acquire. */
      readonly waitMs: number;
      readonly now: number;
      /** SHA-256 (hex) of the grant's secret, which only the acquirer gets; release and renew must show it. */
      readonly secretHash?: string;
    }
  | { readonly type: 'release'; readonly name: string; readonly client: string; readonly token: number; readonly secretHash?: string }
  | {
      readonly type: 'renew';
      readonly name: string;
      readonly client: string;
      readonly token: number;
      readonly ttlMs: number;
      readonly now: number;
      readonly secretHash?: string;
    }
  | { readonly type: 'tick'; readonly now: number }
  /**
   * Takes a waiter out of the queue of `name` because its client went away (the leader saw the
   * long poll's connection close): the waiter of `client` whose grant secret hashes to
   * `secretHash`, so that a later acquire of the same client is never cancelled by mistake. It
   * fails the queued acquire (`timeout`: it was not granted) and may let the waiters behind it in.
   * Nothing changes when that waiter is no longer queued.
   */
  | { readonly type: 'cancel'; readonly name: string; readonly client: string; readonly secretHash: string; readonly now: number };

/**
 * Why a command failed; each is definite: the command changed nothing for its client.
 * `forbidden`: a release or renew of a grant without its secret (or with another one).
 */
export type LockError = 'conflict' | 'deadlock' | 'not-held' | 'timeout' | 'forbidden';

/** The answer to the client that sent a command. */
export type LockResult =
  | {
      readonly status: 'granted';
      readonly name: string;
      readonly mode: LockMode;
      /** The fencing token: larger than every earlier grant's, over all locks. */
      readonly token: number;
      readonly expiresAt: number;
    }
  /** The acquire waits in the lock's queue; its outcome arrives later in {@link LockEvents}. */
  | { readonly status: 'queued'; readonly name: string }
  /** A release, renew or tick that took effect. */
  | { readonly status: 'ok' }
  | { readonly status: 'error'; readonly error: LockError; readonly message: string };

/** One grant caused by a command other than the grantee's own acquire (e.g. a release). */
export interface LockGrant {
  name: string;
  client: string;
  mode: LockMode;
  token: number;
  expiresAt: number;
}

/**
 * What else happened while applying one command, so the node can answer other clients' pending
 * (long-poll) acquires.
 */
export interface LockEvents {
  /** Waiters granted from a queue. */
  readonly granted: readonly LockGrant[];
  /** Waiters removed from a queue: their deadline passed, or they closed a deadlock cycle. */
  readonly failed: readonly { name: string; client: string; error: 'timeout' | 'deadlock' }[];
  /** Holders whose lease ran out (by a `tick`). */
  readonly expired: readonly { name: string; client: string; token: number }[];
}

/** A lock as clients see it (`GET /lock/{name}`); a free lock has mode `null` and no one in it. */
export interface LockView {
  name: string;
  mode: LockMode | null;
  holders: { client: string; token: number; expiresAt: number }[];
  /** In queue order: the head is served first. */
  waiters: { client: string; mode: LockMode; deadline: number }[];
}

/** The longest lock name or client id accepted, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256;

/** A malformed command; `field` names the offending field (`command` when it is not an object). */
export class LockCommandError extends Error {
  readonly code = 'LOCK_COMMAND';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'LockCommandError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 40 ? `${text.slice(0, 40)}…` : text;
  } catch {
    return typeof v;
  }
}

function id(x: Record<string, unknown>, field: 'name' | 'client'): string {
  const v = x[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) {
    throw new LockCommandError(field, `must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(v)}`);
  }
  return v;
}

function finite(x: Record<string, unknown>, field: string): number {
  const v = x[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LockCommandError(field, `must be a finite number, got ${describe(v)}`);
  return v;
}

/** A duration added to `now`: non-negative (positive when `positive`), and `now + it` finite. */
function duration(x: Record<string, unknown>, field: string, now: number, positive: boolean): number {
  const v = finite(x, field);
  if (positive ? !(v > 0) : !(v >= 0)) {
    throw new LockCommandError(field, `must be ${positive ? 'greater than 0' : 'at least 0'}, got ${v}`);
  }
  if (!Number.isFinite(now + v)) throw new LockCommandError(field, `is too large: now + ${field} overflows`);
  return v;
}

function token(x: Record<string, unknown>): number {
  const v = x['token'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new LockCommandError('token', `must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** The hex SHA-256 of a grant's secret. */
export const SECRET_HASH = /^[0-9a-f]{64}$/;

/** `{secretHash}` when the command carries one (older logs do not). */
function secretHash(x: Record<string, unknown>): { secretHash?: string } {
  const v = x['secretHash'];
  if (v === undefined) return {};
  if (typeof v !== 'string' || !SECRET_HASH.test(v)) throw new LockCommandError('secretHash', `must be 64 lowercase hex digits, got ${describe(v)}`);
  return { secretHash: v };
}

function mode(x: Record<string, unknown>): LockMode {
  const v = x['mode'];
  if (v !== 'exclusive' && v !== 'shared') throw new LockCommandError('mode', `must be "exclusive" or "shared", got ${describe(v)}`);
  return v;
}

/**
 * Checks that `x` is a well-formed {@link LockCommand} and returns a copy holding only the
 * command's fields, so the HTTP layer can answer 400 before proposing anything to the log.
 * @throws LockCommandError naming the first bad field.
 */
export function validateLockCommand(x: unknown): LockCommand {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new LockCommandError('command', `must be an object, got ${describe(x)}`);
  }
  const o = x as Record<string, unknown>;
  const type = o['type'];
  switch (type) {
    case 'acquire': {
      const name = id(o, 'name');
      const client = id(o, 'client');
      const m = mode(o);
      const now = finite(o, 'now');
      return { type, name, client, mode: m, ttlMs: duration(o, 'ttlMs', now, true), waitMs: duration(o, 'waitMs', now, false), now, ...secretHash(o) };
    }
    case 'release':
      return { type, name: id(o, 'name'), client: id(o, 'client'), token: token(o), ...secretHash(o) };
    case 'renew': {
      const name = id(o, 'name');
      const client = id(o, 'client');
      const t = token(o);
      const now = finite(o, 'now');
      return { type, name, client, token: t, ttlMs: duration(o, 'ttlMs', now, true), now, ...secretHash(o) };
    }
    case 'tick':
      return { type, now: finite(o, 'now') };
    case 'cancel': {
      const hash = secretHash(o).secretHash;
      if (hash === undefined) throw new LockCommandError('secretHash', 'is required to cancel a waiter');
      return { type, name: id(o, 'name'), client: id(o, 'client'), secretHash: hash, now: finite(o, 'now') };
    }
    default:
      throw new LockCommandError('type', `must be one of acquire, release, renew, tick, cancel, got ${describe(type)}`);
  }
}
