/**
 * Exactly-once application of retried client commands: the lock table wrapped with a replicated
 * session table (client session id + sequence number → the result it got).
 *
 * A client that does not hear back (a timeout, a lost connection, a leader change) retries with
 * the same sequence number; if the first attempt was committed after all, the retry is answered
 * with the recorded result instead of being applied twice. The table is part of the replicated
 * state (and of snapshots), so every replica deduplicates identically. It keeps one entry per
 * session, the last request's, and forgets the least recently used sessions beyond a bound.
 */
import type { LockCommand, LockEvents, LockResult } from './commands.js';
import { LockTable } from './lock-table.js';
import type { LockSnapshot } from './state.js';
import { FP } from '../failpoints.js';

/** Who sent a command: a client session and its request number (increasing per session). */
export interface RequestId {
  readonly session: string;
  readonly seq: number;
}

/** The data of one lock-service log entry. Ticks and other leader commands carry no `request`. */
export interface LockLogData {
  readonly command: LockCommand;
  readonly request?: RequestId;
}

/** What applying one entry gave. */
export interface SessionApplyResult {
  readonly result: LockResult;
  readonly events: LockEvents;
  /** The request was applied before; `result` is the recorded one and nothing changed. */
  readonly duplicate: boolean;
}

/** The snapshot of a {@link SessionLocks}. */
export interface SessionLocksSnapshot {
  readonly locks: LockSnapshot;
  /** Sessions from least to most recently used. */
  readonly sessions: readonly { session: string; seq: number; result: LockResult }[];
}

const NO_EVENTS: LockEvents = { granted: [], failed: [], expired: [] };

/** The lock table with exactly-once sessions. */
export class SessionLocks {
  readonly table: LockTable;
  readonly #maxSessions: number;
  /** Insertion order = least recently used first. */
  readonly #sessions: Map<string, { seq: number; result: LockResult }>;

  /**
   * @param maxSessions sessions remembered; older ones are forgotten (a retry after that is
   * applied again). @default 100_000
   */
  constructor(maxSessions = 100_000, table = new LockTable(), sessions: SessionLocksSnapshot['sessions'] = []) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new TypeError(`maxSessions must be a positive integer, got ${maxSessions}`);
    this.#maxSessions = maxSessions;
    this.table = table;
    this.#sessions = new Map(sessions.map((s) => [s.session, { seq: s.seq, result: s.result }]));
  }

  /** Applies one committed entry's data at log `index`. Never throws. */
  apply(data: LockLogData, index: number): SessionApplyResult {
    const request = data.request;
    if (request === undefined) return { ...this.table.apply(data.command, index), duplicate: false };
    const seen = this.#sessions.get(request.session);
    // FAILPOINT session.no-dedupe: a retry is applied again.
    if (seen !== undefined && request.seq <= seen.seq && !FP['session.no-dedupe']) {
      if (request.seq === seen.seq) return { result: seen.result, events: NO_EVENTS, duplicate: true };
      const result: LockResult = {
        status: 'error',
        error: 'conflict',
        message: `stale request: session ${request.session} already applied request ${seen.seq}, this is ${request.seq}`,
      };
      return { result, events: NO_EVENTS, duplicate: true };
    }
    const out = this.table.apply(data.command, index);
    this.#sessions.delete(request.session);
    this.#sessions.set(request.session, { seq: request.seq, result: out.result });
    if (this.#sessions.size > this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    return { ...out, duplicate: false };
  }

  /** Plain JSON-serializable data. */
  snapshot(): SessionLocksSnapshot {
    return {
      locks: this.table.snapshot(),
      sessions: [...this.#sessions].map(([session, s]) => ({ session, seq: s.seq, result: s.result })),
    };
  }

  /** A session table equal to the one `snapshot` came from. */
  static restore(snapshot: SessionLocksSnapshot, maxSessions?: number): SessionLocks {
    return new SessionLocks(maxSessions, LockTable.restore(snapshot.locks), snapshot.sessions);
  }
}
