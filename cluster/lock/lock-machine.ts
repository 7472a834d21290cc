/**
 * The lock manager as a Raft state machine: {@link SessionLocks} applied entry by entry, plus
 * the bookkeeping a node needs around it — who is waiting for an event (long-poll acquires) and
 * counters for metrics. Deterministic: everything it applies comes from the log.
 */
import type { StateMachine } from '../raft/raft-node.js';
import type { LogEntry } from '../raft/types.js';
import type { LockEvents, LockResult } from './commands.js';
import { checkLockLogData } from './log-schema.js';
import { SessionLocks, waitFailedResult, type LockLogData, type SessionApplyResult, type SessionLocksSnapshot } from './sessions.js';

/** The outcome of a queued acquire, delivered from a later entry's events. */
export type WaitOutcome =
  | { readonly status: 'granted'; readonly name: string; readonly mode: 'exclusive' | 'shared'; readonly token: number; readonly expiresAt: number }
  | { readonly status: 'error'; readonly error: 'timeout' | 'deadlock'; readonly message: string };

/** Counters of what the applied log did (on every replica alike). */
export interface LockCounters {
  grants: number;
  conflicts: number;
  deadlocks: number;
  timeouts: number;
  expiries: number;
}

/** The replicated lock state of one node. */
export class LockMachine implements StateMachine {
  #locks: SessionLocks;
  readonly #maxSessions: number | undefined;
  /** Lock name → client → who waits for that client's outcome. Nested maps: no joined key can be ambiguous. */
  readonly #waiters = new Map<string, Map<string, Set<(o: WaitOutcome) => void>>>();
  readonly counters: LockCounters = { grants: 0, conflicts: 0, deadlocks: 0, timeouts: 0, expiries: 0 };
  /** Called after each applied entry; the service uses it to schedule lease ticks. */
  onApplied: (() => void) | undefined;

  constructor(maxSessions?: number) {
    this.#maxSessions = maxSessions;
    this.#locks = new SessionLocks(maxSessions);
  }

  get locks(): SessionLocks {
    return this.#locks;
  }

  apply(entry: LogEntry): SessionApplyResult | null {
    if (entry.data === null) return null; // a leader's no-op
    const out = this.#locks.apply(entry.data as LockLogData, entry.index);
    this.#count(out.result, out.events);
    this.#deliver(out.events);
    this.onApplied?.();
    return out;
  }

  restore(data: unknown): void {
    this.#locks = SessionLocks.restore(data as SessionLocksSnapshot, this.#maxSessions);
  }

  checkSnapshot(data: unknown): void {
    if (typeof data !== 'object' || data === null || !Array.isArray((data as { sessions?: unknown }).sessions)) {
      throw new TypeError('lock snapshot: expected {locks, sessions}');
    }
    SessionLocks.restore(data as SessionLocksSnapshot, this.#maxSessions);
  }

  /** Throws if `data` is not a lock entry's data (checked before a follower persists an entry). */
  checkEntry(data: unknown): void {
    checkLockLogData(data);
  }

  snapshot(): SessionLocksSnapshot {
    return this.#locks.snapshot();
  }

  /**
   * Registers interest in the outcome of `client`'s queued acquire of `name`: `deliver` is called
   * once, with the grant or the failure, when an applied entry decides it. Register before
   * proposing the acquire (the decision may come in the same batch). Returns the unregister function.
   */
  watch(name: string, client: string, deliver: (o: WaitOutcome) => void): () => void {
    let byClient = this.#waiters.get(name);
    if (!byClient) this.#waiters.set(name, (byClient = new Map()));
    let set = byClient.get(client);
    if (!set) byClient.set(client, (set = new Set()));
    set.add(deliver);
    return () => {
      const m = this.#waiters.get(name);
      const s = m?.get(client);
      if (!m || !s) return;
      s.delete(deliver);
      if (s.size === 0) m.delete(client);
      if (m.size === 0) this.#waiters.delete(name);
    };
  }

  #deliver(events: LockEvents): void {
    if (this.#waiters.size === 0) return;
    for (const g of events.granted) {
      this.#fire(g.name, g.client, { status: 'granted', name: g.name, mode: g.mode, token: g.token, expiresAt: g.expiresAt });
    }
    for (const f of events.failed) {
      const { message } = waitFailedResult(f);
      this.#fire(f.name, f.client, { status: 'error', error: f.error, message });
    }
  }

  #fire(name: string, client: string, o: WaitOutcome): void {
    const byClient = this.#waiters.get(name);
    const set = byClient?.get(client);
    if (!byClient || !set) return;
    byClient.delete(client);
    if (byClient.size === 0) this.#waiters.delete(name);
    for (const deliver of set) deliver(o);
  }

  #count(result: LockResult, events: LockEvents): void {
    const c = this.counters;
    if (result.status === 'granted') c.grants++;
    else if (result.status === 'error') {
      if (result.error === 'deadlock') c.deadlocks++;
      else if (result.error === 'timeout') c.timeouts++;
      else c.conflicts++;
    }
    c.grants += events.granted.length;
    for (const f of events.failed) {
      if (f.error === 'deadlock') c.deadlocks++;
      else c.timeouts++;
    }
    c.expiries += events.expired.length;
  }
}
