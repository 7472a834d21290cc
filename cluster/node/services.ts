/**
 * The services a node runs, in order: each is a folder in `cluster/` and one line here (its
 * factory, see `service.ts`). Their routes, metrics, `/status` and OpenAPI parts are gathered by
 * the node.
 */
import { lockServiceFactory } from '../lock/lock-node-service.js';
import { queueServiceFactory } from '../queue/queue-node-service.js';
import { cacheServiceFactory } from '../cache/cache-node-service.js';
import type { WritePolicy } from '../cache/cache-engine.js';
import type { ServiceFactory } from './service.js';

/** Node options the services read. */
export interface ServiceOptions {
  /** The lock service's TEST AID (see `LockServiceFactoryOptions`). @default false */
  readonly unsafeGrantWithoutQuorum?: boolean;
  /** Most locks held or waited for on the node (see `LockLimits`). @default 100000 */
  readonly maxLocks?: number;
  /** Most waiters queued on one lock. @default 1000 */
  readonly maxWaitersPerLock?: number;
  /** Points per node on the queue's ring (see `QueueServiceOptions`). @default 128 */
  readonly queueVnodes?: number;
  /** Replicas per queue. @default 3 */
  readonly queueReplication?: number;
  /** Most messages pending per queue replica group. @default 1000000 */
  readonly maxQueueMessages?: number;
  /** The cache's write policy. @default 'write-through' */
  readonly cachePolicy?: WritePolicy;
  /** How long a cache node serves a copy, ms. @default 2000 */
  readonly cacheLeaseMs?: number;
  /** The bound on clock-rate drift between nodes the cache's leases assume. @default 0.01 */
  readonly cacheDriftBound?: number;
  /** Most cache lines per node. @default 100000 */
  readonly cacheMaxEntries?: number;
  /** Most bytes of cache lines per node. @default 64 MiB */
  readonly cacheMaxBytes?: number;
  /** The cache's main memory: a Redis URL; the node's embedded store when absent. */
  readonly redisUrl?: string;
  /** With Redis: how long a home may be unheard from before its keys move, ms; 0 = never. @default 1000 */
  readonly cacheFailoverMs?: number;
}

/** The services of a `dsync node`. */
export function nodeServices(o: ServiceOptions = {}): ServiceFactory[] {
  return [
    lockServiceFactory({
      unsafeGrantWithoutQuorum: o.unsafeGrantWithoutQuorum ?? false,
      ...(o.maxLocks !== undefined ? { maxLocks: o.maxLocks } : {}),
      ...(o.maxWaitersPerLock !== undefined ? { maxWaitersPerLock: o.maxWaitersPerLock } : {}),
    }),
    queueServiceFactory({
      ...(o.queueVnodes !== undefined ? { vnodes: o.queueVnodes } : {}),
      ...(o.queueReplication !== undefined ? { replication: o.queueReplication } : {}),
      ...(o.maxQueueMessages !== undefined ? { maxMessages: o.maxQueueMessages } : {}),
    }),
    cacheServiceFactory({
      ...(o.queueVnodes !== undefined ? { vnodes: o.queueVnodes } : {}),
      ...(o.cachePolicy !== undefined ? { policy: o.cachePolicy } : {}),
      ...(o.cacheLeaseMs !== undefined ? { leaseMs: o.cacheLeaseMs } : {}),
      ...(o.cacheDriftBound !== undefined ? { driftBound: o.cacheDriftBound } : {}),
      ...(o.cacheMaxEntries !== undefined ? { maxEntries: o.cacheMaxEntries } : {}),
      ...(o.cacheMaxBytes !== undefined ? { maxBytes: o.cacheMaxBytes } : {}),
      ...(o.redisUrl !== undefined ? { redisUrl: o.redisUrl } : {}),
      ...(o.cacheFailoverMs !== undefined ? { failoverMs: o.cacheFailoverMs } : {}),
    }),
  ];
}
