/**
 * The lock service on the Raft leader: turns client requests into log entries, waits for them
 * to be applied (and, for a queued acquire, for the entry that grants or fails it), and keeps
 * leases and wait deadlines moving by proposing `tick` entries when the table's next deadline
 * comes. Replies are transport-neutral ({@link ServiceReply}); the HTTP layer sends them as is.
 *
 * Clocks: `now` in every command is the leader's wall clock when it proposes, so expiry is
 * decided by the leader and replicated; replicas never read a clock. After a leader change the
 * new leader's clock takes over — a lease can end early or late by the clock difference between
 * the two leaders (NTP keeps that to milliseconds), which is why grants carry fencing tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LockCommand, LockMode, LockResult } from './commands.js';
import type { LockMachine, WaitOutcome } from './lock-machine.js';
import type { LockLogData, RequestId, SessionApplyResult } from './sessions.js';
import { type ProposalOutcome } from '../raft/raft-node.js';
import { unavailable, type ServiceReply } from '../node/reply.js';
import { raftFailure, settledBy } from '../node/raft-reply.js';
import { FP } from '../failpoints.js';

/** What the service needs of the Raft node. */
export interface LockRaft {
  readonly role: string;
  readonly leader: string | null;
  propose(data: unknown): Promise<ProposalOutcome>;
  readIndex(): Promise<number>;
}

export interface AcquireRequest {
  readonly name: string;
  readonly client: string;
  readonly mode: LockMode;
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly request?: RequestId;
  /**
   * Aborts when the client has gone away (its connection closed): a queued acquire is then
   * cancelled — a replicated `cancel` takes its waiter out of the queue, so no release hands the
   * lock to a client that is no longer there.
   */
  readonly clientGone?: AbortSignal | undefined;
}
export interface ReleaseRequest {
  readonly name: string;
  readonly client: string;
  readonly token: number;
  /** The grant's secret, from the acquire's answer: the proof of ownership. */
  readonly secret?: string | undefined;
  readonly request?: RequestId;
}
export interface RenewRequest extends ReleaseRequest {
  readonly ttlMs: number;
}

/**
 * Caps on what clients may queue up on the node, checked on the leader before an acquire is
 * proposed (so acquires in flight at once may pass them by their number); over a cap the
 * acquire is answered 429 `limit-exceeded` naming the limit, and nothing is proposed.
 */
export interface LockLimits {
  /** Most distinct locks held or waited for; an acquire of a new name over it is refused. @default 100000 */
  readonly maxLocks: number;
  /** Most waiters queued on one lock; a blocking acquire that would queue past it is refused. @default 1000 */
  readonly maxWaitersPerLock: number;
}

/** The defaults of {@link LockLimits}. */
export const DEFAULT_LOCK_LIMITS: LockLimits = { maxLocks: 100_000, maxWaitersPerLock: 1000 };

/** Options of a {@link LockService}. */
export interface LockServiceOptions {
  /** How long a request may wait for a commit (beyond an acquire's `waitMs`). @default 5000 */
  readonly requestTimeoutMs?: number;
  /** The wall clock of lease times (`now` in commands and ticks). Request deadlines use `performance.now()`. @default Date.now */
  readonly now?: () => number;
  /** @default DEFAULT_LOCK_LIMITS */
  readonly limits?: LockLimits;
}


/** A fresh grant secret: 192 random bits, URL-safe. */
const newSecret = (): string => randomBytes(24).toString('base64url');

/** What the log and the replicated state hold of a secret: its SHA-256, in hex. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** 403 for a release or renew that shows no secret: refused before anything is proposed. */
const noSecret = (name: string, token: number): ServiceReply => ({
  status: 403,
  body: { error: 'forbidden', message: `no secret for the grant of "${name}" with token ${token}: send the "secret" the acquire answered with` },
});

/** The log entry's data for a command, with its request id when the client sent one. */
function logData(command: LockCommand, request: RequestId | undefined): LockLogData {
  return request ? { command, request } : { command };
}

function fromResult(r: LockResult): ServiceReply {
  switch (r.status) {
    case 'granted':
      return { status: 200, body: { name: r.name, mode: r.mode, token: r.token, expiresAt: r.expiresAt } };
    case 'ok':
      return { status: 200, body: { ok: true } };
    case 'queued':
      // Only a release or renew that reuses the session and seq of a queued acquire (recorded before sessions named their requests).
      return { status: 409, body: { error: 'conflict', message: `this session and seq belong to an acquire of "${r.name}" that is still queued; use a new seq` } };
    case 'error':
      return { status: r.error === 'forbidden' ? 403 : 409, body: { error: r.error, message: r.message } };
    default: {
      const never: never = r;
      return { status: 500, body: { error: 'internal', message: `unknown result ${JSON.stringify(never)}` } };
    }
  }
}

function fromWait(o: WaitOutcome): ServiceReply {
  if (o.status === 'granted') return { status: 200, body: { name: o.name, mode: o.mode, token: o.token, expiresAt: o.expiresAt } };
  return { status: 409, body: { error: o.error, message: o.message } };
}

/** The lock API over a Raft node and its {@link LockMachine}. */
export class LockService {
  readonly #raft: LockRaft;
  readonly #machine: LockMachine;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #limits: LockLimits;
  #tickTimer: NodeJS.Timeout | undefined;
  #tickAt = Infinity;
  #tickInFlight = false;
  #tickCheckQueued = false;
  #closed = false;
  #wakeOnClose = new Set<() => void>();

  constructor(raft: LockRaft, machine: LockMachine, o: LockServiceOptions = {}) {
    this.#raft = raft;
    this.#machine = machine;
    this.#timeoutMs = o.requestTimeoutMs ?? 5000;
    this.#now = o.now ?? Date.now;
    this.#limits = o.limits ?? DEFAULT_LOCK_LIMITS;
    // Once per batch of applied entries, not per entry: nextDeadline() scans the table.
    machine.onApplied = () => {
      if (this.#tickCheckQueued) return;
      this.#tickCheckQueued = true;
      queueMicrotask(() => {
        this.#tickCheckQueued = false;
        this.#scheduleTick();
      });
    };
  }

  get requestTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Call when this node becomes the leader: deadlines that passed while no one ticked. */
  leadershipChanged(): void {
    this.#scheduleTick();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#tickTimer);
    for (const wake of this.#wakeOnClose) wake();
  }

  /**
   * Acquires, answering a grant with the grant's `secret`: a fresh random one, generated here and
   * not by the state machine (which must stay deterministic); the log and the replicas keep only
   * its hash, and no read shows it.
   */
  async acquire(r: AcquireRequest): Promise<ServiceReply> {
    const refused = this.#overLimit(r);
    if (refused !== undefined) return refused;
    const secret = newSecret();
    const reply = await this.#acquire(r, hashSecret(secret));
    return reply.status === 200 ? { ...reply, body: { ...reply.body, secret } } : reply;
  }

  async #acquire(r: AcquireRequest, secretHash: string): Promise<ServiceReply> {
    // Deadlines are monotonic (performance.now()): a wall clock that jumps must not end or stretch a wait.
    const deadline = performance.now() + r.waitMs + this.#timeoutMs;
    let outcome: WaitOutcome | undefined;
    let wake: (() => void) | undefined;
    // Watch before proposing: the grant may be applied in the same batch as the acquire.
    const unwatch = this.#machine.watch(r.name, r.client, (o) => {
      outcome = o;
      wake?.();
    });
    try {
      const command: LockCommand = { type: 'acquire', name: r.name, client: r.client, mode: r.mode, ttlMs: r.ttlMs, waitMs: r.waitMs, now: this.#now(), secretHash };
      const first = await this.#commit(logData(command, r.request), deadline);
      if (!('result' in first)) return first;
      const result = first.result;
      if (result.status !== 'queued') return fromResult(result);
      const gone = r.clientGone;
      if (outcome === undefined && !this.#closed && !gone?.aborted) {
        const waited = new Promise<void>((resolve) => (wake = resolve));
        const onGone = (): void => wake?.();
        this.#wakeOnClose.add(wake as () => void);
        gone?.addEventListener('abort', onGone, { once: true });
        try {
          await settledBy(deadline, waited);
        } finally {
          this.#wakeOnClose.delete(wake as () => void);
          gone?.removeEventListener('abort', onGone);
        }
      }
      if (outcome === undefined && gone?.aborted && !this.#closed) {
        // No one reads this answer; the cancel is what matters (committed, or lost with the leadership).
        await this.#commit(logData({ type: 'cancel', name: r.name, client: r.client, secretHash, now: this.#now() }, undefined), performance.now() + this.#timeoutMs);
        // Not definite: the cancel may have lost the race with a grant. Nobody reads it anyway.
        return unavailable(`the client went away while "${r.name}" was queued; the acquire was cancelled`, this.#raft.leader, false);
      }
      if (outcome === undefined) {
        if (this.#closed) return unavailable('the node is shutting down; the acquire stays queued', null, false);
        return unavailable(`"${r.name}" was queued but neither granted nor failed within waitMs + ${this.#timeoutMs} ms (no quorum to expire it?)`, this.#raft.leader, false);
      }
      return fromWait(outcome);
    } finally {
      unwatch();
    }
  }

  /** The 429 for an acquire past a {@link LockLimits} cap, or undefined. */
  #overLimit(r: AcquireRequest): ServiceReply | undefined {
    const table = this.#machine.locks.table;
    const { exists, waiters } = table.occupancy(r.name);
    const over = (limit: string, max: number, message: string): ServiceReply => ({ status: 429, body: { error: 'limit-exceeded', limit, max, message, definite: true } });
    if (!exists && table.lockCount >= this.#limits.maxLocks) {
      return over('max-locks', this.#limits.maxLocks, `the node holds the most locks it may (${this.#limits.maxLocks}, --max-locks); "${r.name}" is a new one`);
    }
    if (r.waitMs > 0 && waiters >= this.#limits.maxWaitersPerLock) {
      return over('max-waiters-per-lock', this.#limits.maxWaitersPerLock, `"${r.name}" has the most waiters it may (${this.#limits.maxWaitersPerLock}, --max-waiters-per-lock)`);
    }
    return undefined;
  }

  /** Releases a grant; 403 `forbidden` without its secret. */
  async release(r: ReleaseRequest): Promise<ServiceReply> {
    if (r.secret === undefined) return noSecret(r.name, r.token);
    return this.#write({ type: 'release', name: r.name, client: r.client, token: r.token, secretHash: hashSecret(r.secret) }, r.request);
  }

  /** Renews a grant's lease; 403 `forbidden` without its secret. */
  async renew(r: RenewRequest): Promise<ServiceReply> {
    if (r.secret === undefined) return noSecret(r.name, r.token);
    return this.#write({ type: 'renew', name: r.name, client: r.client, token: r.token, ttlMs: r.ttlMs, now: this.#now(), secretHash: hashSecret(r.secret) }, r.request);
  }

  /** A command whose answer is its own result (no waiting in a queue). */
  async #write(command: LockCommand, request: RequestId | undefined): Promise<ServiceReply> {
    const out = await this.#commit(logData(command, request), performance.now() + this.#timeoutMs);
    return 'result' in out ? fromResult(out.result) : out;
  }

  /** A linearizable read of one lock (ReadIndex). */
  async view(name: string): Promise<ServiceReply> {
    // FAILPOINT lock.read-without-confirm: answer from this node's table as it is.
    if (FP['lock.read-without-confirm']) return { status: 200, body: { ...this.#machine.locks.table.view(name) } };
    try {
      const ok = await settledBy(performance.now() + this.#timeoutMs, this.#raft.readIndex());
      if (!ok) return unavailable('could not confirm leadership with a quorum in time', this.#raft.leader, true);
    } catch (e) {
      return raftFailure(e, true);
    }
    return { status: 200, body: { ...this.#machine.locks.table.view(name) } };
  }

  /** Proposes and waits until applied; the reply on failure, or the state machine's result. */
  async #commit(data: LockLogData, deadline: number): Promise<ServiceReply | SessionApplyResult> {
    let outcome: ProposalOutcome | undefined;
    try {
      const p = this.#raft.propose(data);
      const ok = await settledBy(deadline, p.then((o) => void (outcome = o)));
      if (!ok || outcome === undefined) return unavailable('the command was proposed but not committed in time (no quorum?)', this.#raft.leader, false);
    } catch (e) {
      return raftFailure(e, false);
    }
    switch (outcome.status) {
      case 'applied':
        return outcome.result as SessionApplyResult;
      case 'lost':
        return unavailable('leadership changed before the command committed; it was not applied', this.#raft.leader, true);
      case 'unknown':
        return unavailable('leadership changed; whether the command was applied is unknown (retry with the same session and seq)', this.#raft.leader, false);
      default: {
        const never: never = outcome;
        throw new TypeError(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  }

  /** On the leader, makes sure a tick is proposed when the next lease or wait deadline comes. */
  #scheduleTick(): void {
    if (this.#closed || this.#raft.role !== 'leader' || this.#tickInFlight) return;
    const next = this.#machine.locks.table.nextDeadline();
    if (next === undefined || next >= this.#tickAt) return;
    clearTimeout(this.#tickTimer);
    this.#tickAt = next;
    this.#tickTimer = setTimeout(() => void this.#tick(), Math.max(1, next - this.#now() + 1));
    this.#tickTimer.unref();
  }

  async #tick(): Promise<void> {
    this.#tickAt = Infinity;
    if (this.#closed || this.#raft.role !== 'leader') return;
    this.#tickInFlight = true;
    try {
      // Bounded: without a quorum the tick may never commit; the next one is proposed afresh.
      await settledBy(performance.now() + this.#timeoutMs, this.#raft.propose(logData({ type: 'tick', now: this.#now() }, undefined)));
    } catch {
      // Not the leader any more, or stopping: the next leader ticks.
    } finally {
      this.#tickInFlight = false;
    }
    this.#scheduleTick();
  }
}
