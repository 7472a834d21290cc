/**
 * The lock table: the deterministic state machine that the Raft log replicates.
 *
 * Every replica applies the same committed commands in the same order and so holds the same
 * locks, grants the same fencing tokens and expires the same leases. Nothing here reads a clock,
 * draws a random number or depends on anything but the command sequence: time comes from the
 * commands' `now` (the leader's clock when it proposed them), and every iteration follows arrays
 * or insertion-ordered maps.
 *
 * Rules, in short: any number of `shared` holders or one `exclusive` holder; no re-entry or
 * upgrade; a client waits for at most one lock; a new request is granted at once only when it is
 * compatible with the holders and nobody waits, otherwise it queues (FIFO, so later shared
 * requests never overtake a waiting exclusive one) or, with `waitMs` 0, fails with `conflict`.
 * Each grant's token is `max(lastToken + 1, index)`. A `tick` expires leases and times out
 * waiters. A new waiter that closes a cycle in the wait-for graph fails with `deadlock` (in
 * general: the youngest waiter on the cycle does).
 */
import {
  validateLockCommand,
  LockCommandError,
  type LockCommand,
  type LockEvents,
  type LockGrant,
  type LockMode,
  type LockResult,
  type LockView,
} from './commands.js';
import { fromSnapshot, toSnapshot, withHash, type LockEntry, type LockSnapshot, type TableState } from './state.js';
import { findCycle } from './wait-for-graph.js';
import { errorMessage } from '../errors.js';
import { FP } from '../failpoints.js';

/** What applying one command accumulates besides its own result. */
interface Context {
  readonly index: number;
  /** The time grants made by this command count their lease from. */
  readonly now: number;
  /** The acquiring client of an `acquire`, whose own grant or failure is its result, not an event. */
  readonly acquirer: { readonly name: string; readonly client: string } | undefined;
  result: LockResult | undefined;
  readonly granted: LockGrant[];
  readonly failed: { name: string; client: string; error: 'timeout' | 'deadlock' }[];
  readonly expired: { name: string; client: string; token: number }[];
  /** Clients at an end of a wait-for edge this command added: any new cycle passes through one. */
  readonly suspects: Set<string>;
  /** Locks this command changed, to drop the ones left idle. */
  readonly touched: Set<string>;
}

const compatible = (mode: LockMode, lock: LockEntry): boolean =>
  lock.holders.length === 0 ||
  (mode === 'shared' && lock.mode === 'shared') ||
  // FAILPOINT lock.exclusive-over-shared: an exclusive request fits over shared holders.
  (FP['lock.exclusive-over-shared'] && mode === 'exclusive' && lock.mode === 'shared');

const conflict = (message: string): LockResult => ({ status: 'error', error: 'conflict', message });

const notHeld = (c: { name: string; client: string; token: number }): LockResult => ({
  status: 'error',
  error: 'not-held',
  message: `${c.client} does not hold "${c.name}" with token ${c.token}`,
});

const forbidden = (c: { name: string; token: number; secretHash?: string }): LockResult => ({
  status: 'error',
  error: 'forbidden',
  message: `${c.secretHash === undefined ? 'no' : 'the wrong'} secret for the grant of "${c.name}" with token ${c.token}: only its acquirer, who got the secret with the grant, may release or renew it`,
});

/** Removes the elements matching `pred` from `items` in place and returns them, in order. */
function removeWhere<T>(items: T[], pred: (x: T) => boolean): T[] {
  const removed: T[] = [];
  let kept = 0;
  for (const x of items) {
    if (pred(x)) removed.push(x);
    else items[kept++] = x;
  }
  items.length = kept;
  return removed;
}

/** The replicated lock table (see the module comment for its rules). */
export class LockTable {
  #state: TableState = { locks: new Map(), waiting: new Map(), lastToken: 0, clock: null };

  /**
   * Applies one committed command at log index `index` (strictly increasing across calls).
   * Never throws: a malformed command gives a `conflict` error result and changes nothing.
   */
  apply(command: LockCommand, index: number): { result: LockResult; events: LockEvents } {
    let c: LockCommand;
    try {
      c = validateLockCommand(command);
      if (!Number.isSafeInteger(index) || index < 0) throw new LockCommandError('index', `must be a non-negative integer, got ${String(index)}`);
    } catch (e) {
      const message = e instanceof LockCommandError ? e.message : String(e);
      return { result: conflict(`invalid command: ${message}`), events: { granted: [], failed: [], expired: [] } };
    }
    const s = this.#state;
    if (c.type !== 'release') s.clock = s.clock === null ? c.now : Math.max(s.clock, c.now);
    const ctx: Context = {
      index,
      now: c.type === 'release' ? (s.clock ?? 0) : c.now,
      acquirer: c.type === 'acquire' ? { name: c.name, client: c.client } : undefined,
      result: undefined,
      granted: [],
      failed: [],
      expired: [],
      suspects: new Set(),
      touched: new Set(),
    };
    let result: LockResult;
    try {
      result = this.#dispatch(c, ctx);
    } catch (e) {
      // Unreachable for validated commands. Every replica would fail the same way, so answering
      // with an error keeps the replicas consistent and the node alive.
      result = conflict(`internal error: ${errorMessage(e)}`);
    }
    for (const name of ctx.touched) {
      const lock = s.locks.get(name);
      if (lock && lock.holders.length === 0 && lock.waiters.length === 0) s.locks.delete(name);
    }
    return { result, events: { granted: ctx.granted, failed: ctx.failed, expired: ctx.expired } };
  }

  /** The lock `name` as clients see it; a free lock has mode `null`, no holders and no waiters. */
  view(name: string): LockView {
    const lock = this.#state.locks.get(name);
    if (!lock) return { name, mode: null, holders: [], waiters: [] };
    return {
      name,
      mode: lock.mode,
      holders: lock.holders.map((h) => ({ client: h.client, token: h.token, expiresAt: h.expiresAt })),
      waiters: lock.waiters.map((w) => ({ client: w.client, mode: w.mode, deadline: w.deadline })),
    };
  }

  /**
   * Replaces the secret hash of `client`'s grant with `token` of `name` (or, with `token`
   * undefined, of its place in the queue of `name`): a retried acquire (same session and seq)
   * brings a new secret, the only one its client now knows. Returns whether anything changed.
   */
  rekey(name: string, client: string, token: number | undefined, secretHash: string): boolean {
    const lock = this.#state.locks.get(name);
    const who = token === undefined ? lock?.waiters.find((w) => w.client === client) : lock?.holders.find((h) => h.client === client && h.token === token);
    if (who === undefined) return false;
    who.secretHash = secretHash;
    return true;
  }

  /** How many locks are held or waited for. */
  get lockCount(): number {
    return this.#state.locks.size;
  }

  /** Whether `name` is held or waited for, and how many wait for it. */
  occupancy(name: string): { exists: boolean; waiters: number } {
    const lock = this.#state.locks.get(name);
    return { exists: lock !== undefined, waiters: lock?.waiters.length ?? 0 };
  }

  /** The earliest lease expiry or waiter deadline, or `undefined`: when the leader should propose a tick. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const lock of this.#state.locks.values()) {
      for (const h of lock.holders) if (next === undefined || h.expiresAt < next) next = h.expiresAt;
      for (const w of lock.waiters) if (next === undefined || w.deadline < next) next = w.deadline;
    }
    return next;
  }

  /** The whole state as plain JSON-serializable data, sharing nothing with the table. */
  snapshot(): LockSnapshot {
    return toSnapshot(this.#state);
  }

  /**
   * A table in the state `snapshot` describes, behaving exactly as the table it was taken from.
   * @throws TypeError when the snapshot is malformed.
   */
  static restore(snapshot: LockSnapshot): LockTable {
    const table = new LockTable();
    table.#state = fromSnapshot(snapshot);
    return table;
  }

  #dispatch(c: LockCommand, ctx: Context): LockResult {
    switch (c.type) {
      case 'acquire':
        return this.#acquire(c, ctx);
      case 'release':
        return this.#release(c, ctx);
      case 'renew':
        return this.#renew(c);
      case 'tick':
        return this.#tick(c.now, ctx);
      case 'cancel':
        return this.#cancel(c, ctx);
      default: {
        const never: never = c;
        return conflict(`invalid command: ${JSON.stringify(never)}`);
      }
    }
  }

  #acquire(c: Extract<LockCommand, { type: 'acquire' }>, ctx: Context): LockResult {
    const s = this.#state;
    const lock = s.locks.get(c.name);
    if (lock?.holders.some((h) => h.client === c.client)) return conflict(`${c.client} already holds "${c.name}" (${String(lock.mode)})`);
    if (s.waiting.get(c.client) === c.name) return conflict(`${c.client} already waits for "${c.name}"`);
    // FAILPOINT lock.grant-ignores-waiters: with waiters queued, grant without asking the holders.
    const skipCheck = FP['lock.grant-ignores-waiters'] && lock !== undefined && lock.waiters.length > 0;
    if (!lock || (lock.waiters.length === 0 && compatible(c.mode, lock)) || skipCheck) {
      const entry = lock ?? { mode: null, holders: [], waiters: [] };
      if (!lock) s.locks.set(c.name, entry);
      const token = this.#nextToken(ctx.index);
      const expiresAt = c.now + c.ttlMs;
      entry.holders.push({ client: c.client, token, expiresAt, ...withHash(c.secretHash) });
      entry.mode = c.mode;
      return { status: 'granted', name: c.name, mode: c.mode, token, expiresAt };
    }
    if (c.waitMs <= 0) {
      const queue = lock.waiters.length > 0 ? ` and ${lock.waiters.length} waiting` : '';
      return conflict(`"${c.name}" is held ${String(lock.mode)} by ${lock.holders.length}${queue}`);
    }
    const other = s.waiting.get(c.client);
    if (other !== undefined) return conflict(`${c.client} already waits for "${other}"`);
    lock.waiters.push({ client: c.client, mode: c.mode, ttlMs: c.ttlMs, deadline: c.now + c.waitMs, index: ctx.index, ...withHash(c.secretHash) });
    s.waiting.set(c.client, c.name);
    ctx.result = { status: 'queued', name: c.name };
    ctx.suspects.add(c.client);
    this.#resolveDeadlocks(ctx);
    return ctx.result;
  }

  #release(c: Extract<LockCommand, { type: 'release' }>, ctx: Context): LockResult {
    const lock = this.#state.locks.get(c.name);
    const i = lock ? lock.holders.findIndex((h) => h.client === c.client && h.token === c.token) : -1;
    if (!lock || i < 0) return notHeld(c);
    if (lock.holders[i]?.secretHash !== c.secretHash) return forbidden(c);
    lock.holders.splice(i, 1);
    if (lock.holders.length === 0) lock.mode = null;
    ctx.touched.add(c.name);
    this.#serve(c.name, ctx);
    this.#resolveDeadlocks(ctx);
    return { status: 'ok' };
  }

  #renew(c: Extract<LockCommand, { type: 'renew' }>): LockResult {
    const holder = this.#state.locks.get(c.name)?.holders.find((h) => h.client === c.client && h.token === c.token);
    if (!holder) return notHeld(c);
    if (holder.secretHash !== c.secretHash) return forbidden(c);
    holder.expiresAt = c.now + c.ttlMs;
    return { status: 'ok' };
  }

  #cancel(c: Extract<LockCommand, { type: 'cancel' }>, ctx: Context): LockResult {
    const lock = this.#state.locks.get(c.name);
    const gone = lock ? removeWhere(lock.waiters, (w) => w.client === c.client && w.secretHash === c.secretHash) : [];
    for (const w of gone) {
      this.#state.waiting.delete(w.client);
      ctx.failed.push({ name: c.name, client: w.client, error: 'timeout' });
      ctx.touched.add(c.name);
    }
    if (gone.length > 0) {
      this.#serve(c.name, ctx);
      this.#resolveDeadlocks(ctx);
    }
    return { status: 'ok' };
  }

  #tick(replicatedNow: number, ctx: Context): LockResult {
    const s = this.#state;
    // FAILPOINT lock.expire-by-local-clock: this replica's clock, read as it applies the tick.
    const now = FP['lock.expire-by-local-clock'] ? Date.now() : replicatedNow;
    for (const [name, lock] of s.locks) {
      for (const h of removeWhere(lock.holders, (x) => x.expiresAt <= now)) {
        ctx.expired.push({ name, client: h.client, token: h.token });
        ctx.touched.add(name);
      }
      if (lock.holders.length === 0) lock.mode = null;
      for (const w of removeWhere(lock.waiters, (x) => x.deadline <= now)) {
        s.waiting.delete(w.client);
        ctx.failed.push({ name, client: w.client, error: 'timeout' });
        ctx.touched.add(name);
      }
    }
    for (const name of ctx.touched) this.#serve(name, ctx);
    this.#resolveDeadlocks(ctx);
    return { status: 'ok' };
  }

  #nextToken(index: number): number {
    let token = Math.max(this.#state.lastToken + 1, index);
    // FAILPOINT lock.stale-token: the previous log index, whatever was handed out before.
    if (FP['lock.stale-token']) token = index - 1;
    // FAILPOINT lock.reuse-token: the last token may be handed out again.
    else if (FP['lock.reuse-token']) token = Math.max(this.#state.lastToken, index);
    this.#state.lastToken = Math.max(this.#state.lastToken, token);
    return token;
  }

  /**
   * Grants from the head of the queue of `name` while the head is compatible with the holders:
   * an exclusive head only when there are no holders, a shared head when there is no exclusive
   * holder — and then every consecutive shared waiter behind it.
   */
  #serve(name: string, ctx: Context): void {
    const s = this.#state;
    const lock = s.locks.get(name);
    if (!lock) return;
    for (let head = lock.waiters[0]; head !== undefined && compatible(head.mode, lock); head = lock.waiters[0]) {
      lock.waiters.shift();
      s.waiting.delete(head.client);
      const grant: LockGrant = { name, client: head.client, mode: head.mode, token: this.#nextToken(ctx.index), expiresAt: ctx.now + head.ttlMs };
      lock.holders.push({ client: grant.client, token: grant.token, expiresAt: grant.expiresAt, ...withHash(head.secretHash) });
      lock.mode = head.mode;
      if (ctx.acquirer?.name === name && ctx.acquirer.client === head.client) ctx.result = { status: 'granted', ...grant };
      else ctx.granted.push(grant);
      // The waiters left gain edges to the new holder, so any new cycle passes through it. (None
      // can: it waits for nothing any more. Checking costs nothing, and keeps that reasoning here.)
      ctx.suspects.add(head.client);
      ctx.touched.add(name);
    }
  }

  /**
   * Breaks every wait-for cycle through the suspect waiters: the youngest waiter on a cycle
   * (queued at the highest log index) fails with `deadlock`, the queue it leaves is served, and
   * the search repeats until no cycle remains.
   */
  #resolveDeadlocks(ctx: Context): void {
    const s = this.#state;
    while (ctx.suspects.size > 0) {
      const cycle = findCycle(ctx.suspects, s.locks, s.waiting);
      if (cycle === undefined) {
        ctx.suspects.clear();
        return;
      }
      let victim: { at: number; name: string; lock: LockEntry; index: number } | undefined;
      cycle.forEach((client, at) => {
        const name = s.waiting.get(client);
        const lock = name === undefined ? undefined : s.locks.get(name);
        const w = lock?.waiters.find((x) => x.client === client);
        if (name !== undefined && lock && w && (victim === undefined || w.index > victim.index)) victim = { at, name, lock, index: w.index };
      });
      // Every client on a cycle waits (only waiters have edges), so a victim exists.
      if (victim === undefined) return;
      const order = [...cycle.slice(victim.at), ...cycle.slice(0, victim.at)];
      const client = order[0] as string;
      removeWhere(victim.lock.waiters, (w) => w.client === client);
      s.waiting.delete(client);
      ctx.touched.add(victim.name);
      if (ctx.acquirer?.name === victim.name && ctx.acquirer.client === client) {
        const message = `waiting for "${victim.name}" would deadlock: ${[...order, client].join(' → ')}`;
        ctx.result = { status: 'error', error: 'deadlock', message };
      } else {
        ctx.failed.push({ name: victim.name, client, error: 'deadlock' });
      }
      this.#serve(victim.name, ctx);
    }
  }
}
