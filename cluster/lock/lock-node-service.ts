/**
 * The lock manager as a service of a node: its replicated state machine ({@link LockMachine})
 * is the one the node's Raft log drives; {@link LockService} turns requests into log entries on
 * the leader; the routes serve `/lock/*` on the leader and forward to it from the other nodes.
 */
import { LockMachine, type LockCounters } from './lock-machine.js';
import { DEFAULT_LOCK_LIMITS, LockService, type LockLimits } from './lock-service.js';
import { LocalOnlyRaft } from './local-only-raft.js';
import { lockOpenApiPaths, lockRoutes } from './lock-routes.js';
import { observedCounter } from '../node/metrics.js';
import type { NodeService, ServiceContext, ServiceFactory } from '../node/service.js';
import { FP } from '../failpoints.js';

/** Options of the lock service. */
export interface LockServiceFactoryOptions {
  /**
   * TEST AID that breaks safety on purpose: serve the lock API from a table of this node's own,
   * without Raft (see `LocalOnlyRaft`). @default false
   */
  readonly unsafeGrantWithoutQuorum?: boolean;
  /** Most locks held or waited for (`--max-locks`). @default DEFAULT_LOCK_LIMITS.maxLocks */
  readonly maxLocks?: number;
  /** Most waiters queued on one lock (`--max-waiters-per-lock`). @default DEFAULT_LOCK_LIMITS.maxWaitersPerLock */
  readonly maxWaitersPerLock?: number;
}

const COUNTERS: readonly (readonly [string, string, keyof LockCounters])[] = [
  ['dsync_lock_grants_total', 'Lock grants applied (immediate and from a queue)', 'grants'],
  ['dsync_lock_conflicts_total', 'Acquires, releases and renews refused with conflict, not-held or forbidden', 'conflicts'],
  ['dsync_lock_deadlocks_total', 'Acquires failed as the victim of a deadlock cycle', 'deadlocks'],
  ['dsync_lock_timeouts_total', 'Queued acquires that were not granted within waitMs', 'timeouts'],
  ['dsync_lock_expiries_total', 'Leases that ran out', 'expiries'],
];

function start(ctx: ServiceContext, machine: LockMachine, o: LockServiceFactoryOptions): NodeService {
  // FAILPOINT lock.grant-without-quorum: the same test aid as the flag.
  const unsafe = (o.unsafeGrantWithoutQuorum ?? false) || FP['lock.grant-without-quorum'];
  const limits: LockLimits = { maxLocks: o.maxLocks ?? DEFAULT_LOCK_LIMITS.maxLocks, maxWaitersPerLock: o.maxWaitersPerLock ?? DEFAULT_LOCK_LIMITS.maxWaitersPerLock };
  let locks: LockService;
  if (unsafe) {
    ctx.log.warn('--unsafe-grant-without-quorum (or failpoint lock.grant-without-quorum): this node grants locks from a table of its own, without Raft; safety is broken on purpose (a test aid)');
    const own = new LockMachine();
    locks = new LockService(new LocalOnlyRaft(ctx.id, own), own, { requestTimeoutMs: ctx.requestTimeoutMs, limits });
  } else {
    locks = new LockService(ctx.raft, machine, { requestTimeoutMs: ctx.requestTimeoutMs, limits });
  }
  for (const [name, help, key] of COUNTERS) observedCounter(ctx.registry, name, help, () => machine.counters[key]);
  return {
    name: 'lock',
    routes: lockRoutes(locks, { id: ctx.id, raft: ctx.raft, forwarder: ctx.forwarder, serveHere: unsafe }, ctx.bodyLimit),
    openapi: { paths: lockOpenApiPaths() },
    status: () => ({ ...machine.counters, locks: machine.locks.table.lockCount, limits, ...(unsafe ? { unsafeGrantWithoutQuorum: true } : {}) }),
    onLeadership: () => locks.leadershipChanged(),
    close: () => locks.close(),
  };
}

/** The lock service, for a node's list of services. */
export function lockServiceFactory(o: LockServiceFactoryOptions = {}): ServiceFactory {
  return {
    name: 'lock',
    prepare() {
      const machine = new LockMachine();
      return { machine, start: (ctx) => start(ctx, machine, o) };
    },
  };
}
