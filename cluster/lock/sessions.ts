/**
 * Exactly-once application of retried client commands: the lock table wrapped with a replicated
 * session table (client session id + sequence number → the result it got).
 *
 * A client that does not hear back (a timeout, a lost connection, a leader change) retries with
 * the same sequence number; if the first attempt was committed after all, the retry is answered
 * with the recorded result instead of being applied twice. The table is part of the replicated
 * state (and of snapshots), so every replica deduplicates identically. It keeps one entry per
 * session, the last request's, and forgets the least recently used sessions beyond a bound.
 *
 * A queued acquire's recorded result is `queued` only until a later entry grants or fails the
 * wait: that entry updates the record, so a retry that comes after the decision gets the grant
 * (the same token) or the failure. A retry must be the same request: a seq reused for another
 * command, lock or client is refused with `conflict` naming the request it was first used for.
 */
import type { LockCommand, LockEvents, LockGrant, LockResult } from './commands.js';
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

/** What a session's recorded request was, to tell a true retry from a reused seq. */
export interface RequestOf {
  readonly type: LockCommand['type'];
  readonly name?: string;
  readonly client?: string;
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
  readonly sessions: readonly { session: string; seq: number; result: LockResult; of?: RequestOf }[];
}

const NO_EVENTS: LockEvents = { granted: [], failed: [], expired: [] };

interface SessionRecord {
  readonly seq: number;
  result: LockResult;
  /** Absent in records of older snapshots: any retry with the seq matches. */
  readonly of?: RequestOf;
}

function requestOf(c: LockCommand): RequestOf {
  return c.type === 'tick' ? { type: c.type } : { type: c.type, name: c.name, client: c.client };
}

const sameRequest = (a: RequestOf, b: RequestOf): boolean => a.type === b.type && a.name === b.name && a.client === b.client;

const describeRequest = (r: RequestOf): string => (r.name === undefined ? r.type : `${r.type} of ${JSON.stringify(r.name)} by ${JSON.stringify(r.client)}`);

/** The result a queued acquire ends with when a later entry grants it. */
export function grantResult(g: LockGrant): LockResult {
  return { status: 'granted', name: g.name, mode: g.mode, token: g.token, expiresAt: g.expiresAt };
}

/** The result a queued acquire ends with when a later entry fails it. */
export function waitFailedResult(f: LockEvents['failed'][number]): Extract<LockResult, { status: 'error' }> {
  const message = f.error === 'deadlock' ? `waiting for "${f.name}" would close a deadlock cycle; ${f.client} is the youngest waiter` : `"${f.name}" was not granted within waitMs`;
  return { status: 'error', error: f.error, message };
}

/** The lock table with exactly-once sessions. */
export class SessionLocks {
  readonly table: LockTable;
  readonly #maxSessions: number;
  /** Insertion order = least recently used first. */
  readonly #sessions: Map<string, SessionRecord>;
  /** Waiting client → the session whose recorded acquire is still `queued` (a client waits for one lock at most). */
  readonly #queuedBy = new Map<string, string>();

  /**
   * @param maxSessions sessions remembered; older ones are forgotten (a retry after that is
   * applied again). @default 100_000
   */
  constructor(maxSessions = 100_000, table = new LockTable(), sessions: SessionLocksSnapshot['sessions'] = []) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new TypeError(`maxSessions must be a positive integer, got ${maxSessions}`);
    this.#maxSessions = maxSessions;
    this.table = table;
    this.#sessions = new Map(sessions.map((s) => [s.session, { seq: s.seq, result: s.result, ...(s.of ? { of: s.of } : {}) }]));
    for (const [session, r] of this.#sessions) if (r.result.status === 'queued' && r.of?.client !== undefined) this.#queuedBy.set(r.of.client, session);
  }

  /** Applies one committed entry's data at log `index`. Never throws. */
  apply(data: LockLogData, index: number): SessionApplyResult {
    const request = data.request;
    if (request === undefined) return { ...this.#applyToTable(data.command, index), duplicate: false };
    const seen = this.#sessions.get(request.session);
    // FAILPOINT session.no-dedupe: a retry is applied again.
    if (seen !== undefined && request.seq <= seen.seq && !FP['session.no-dedupe']) {
      if (request.seq === seen.seq) {
        const of = requestOf(data.command);
        if (seen.of === undefined || sameRequest(seen.of, of)) {
          this.#rekey(data.command, seen.result);
          return { result: seen.result, events: NO_EVENTS, duplicate: true };
        }
        const result: LockResult = {
          status: 'error',
          error: 'conflict',
          message: `session ${request.session} already used seq ${request.seq} for the ${describeRequest(seen.of)}; this ${describeRequest(of)} needs a new seq`,
        };
        return { result, events: NO_EVENTS, duplicate: true };
      }
      const result: LockResult = {
        status: 'error',
        error: 'conflict',
        message: `stale request: session ${request.session} already applied request ${seen.seq}, this is ${request.seq}`,
      };
      return { result, events: NO_EVENTS, duplicate: true };
    }
    const out = this.#applyToTable(data.command, index);
    this.#forget(request.session);
    const of = requestOf(data.command);
    this.#sessions.set(request.session, { seq: request.seq, result: out.result, of });
    if (out.result.status === 'queued' && of.client !== undefined) this.#queuedBy.set(of.client, request.session);
    if (this.#sessions.size > this.#maxSessions) this.#forget(this.#sessions.keys().next().value as string);
    return { ...out, duplicate: false };
  }

  /** Applies `command` to the table, and records the decisions of queued acquires in their sessions. */
  #applyToTable(command: LockCommand, index: number): { result: LockResult; events: LockEvents } {
    const out = this.table.apply(command, index);
    if (this.#queuedBy.size === 0) return out;
    for (const g of out.events.granted) this.#decide(g.name, g.client, grantResult(g));
    for (const f of out.events.failed) this.#decide(f.name, f.client, waitFailedResult(f));
    return out;
  }

  #decide(name: string, client: string, result: LockResult): void {
    const session = this.#queuedBy.get(client);
    if (session === undefined) return;
    const r = this.#sessions.get(session);
    if (r?.result.status !== 'queued' || r.result.name !== name || r.of?.client !== client) return;
    this.#queuedBy.delete(client);
    r.result = result;
  }

  /**
   * A retried acquire carries a new grant secret (the acquirer may never have seen the first):
   * the grant, or the place in the queue, the first attempt got now answers to the new one.
   */
  #rekey(command: LockCommand, recorded: LockResult): void {
    if (command.type !== 'acquire' || command.secretHash === undefined) return;
    if (recorded.status === 'granted') this.table.rekey(command.name, command.client, recorded.token, command.secretHash);
    else if (recorded.status === 'queued') this.table.rekey(command.name, command.client, undefined, command.secretHash);
  }

  #forget(session: string): void {
    const r = this.#sessions.get(session);
    if (r === undefined) return;
    this.#sessions.delete(session);
    const client = r.of?.client;
    if (client !== undefined && this.#queuedBy.get(client) === session) this.#queuedBy.delete(client);
  }

  /** Plain JSON-serializable data. */
  snapshot(): SessionLocksSnapshot {
    return {
      locks: this.table.snapshot(),
      sessions: [...this.#sessions].map(([session, s]) => ({ session, seq: s.seq, result: s.result, ...(s.of ? { of: { ...s.of } } : {}) })),
    };
  }

  /** A session table equal to the one `snapshot` came from. */
  static restore(snapshot: SessionLocksSnapshot, maxSessions?: number): SessionLocks {
    return new SessionLocks(maxSessions, LockTable.restore(snapshot.locks), snapshot.sessions);
  }
}
