/**
 * The cache as a service of a node: each key's home is its owner on the hash ring (the queue's
 * ring module); the node keeps an LRU of lines and, for the keys it homes, the directory
 * (`cache-engine.ts`). Main memory is Redis when a URL is given (`--redis`), else the node's own
 * durable file (`embedded-store.ts`) — which holds the keys this node homes.
 */
import { stat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { HashRing } from '../hash-ring.js';
import { observedCounter } from '../node/metrics.js';
import type { NodeService, ServiceContext, ServiceFactory } from '../node/service.js';
import { enabledFailpoints } from '../failpoints.js';
import type { BackingStore } from './backing-store.js';
import { CacheEngine, type CacheCounters, type WritePolicy } from './cache-engine.js';
import { cacheOpenApiPaths, cacheRoutes, forwarderPeers } from './cache-routes.js';
import { EmbeddedStore } from './embedded-store.js';
import { RedisStore, describeRedisUrl } from './redis-store.js';
import type { HomeView } from './home-map.js';
import { errorMessage } from '../errors.js';

/** Options of the cache service (the node's `--cache-*` and `--redis` flags). */
export interface CacheServiceOptions {
  /** @default 'write-through' */
  readonly policy?: WritePolicy;
  /** How long a holder serves a copy, ms. @default 2000 */
  readonly leaseMs?: number;
  /** The assumed bound on clock-rate drift between nodes. @default 0.01 */
  readonly driftBound?: number;
  /** Most lines per node. @default 100000 */
  readonly maxEntries?: number;
  /** Most bytes of lines per node. @default 64 MiB */
  readonly maxBytes?: number;
  /** Main memory: a Redis URL (`redis://127.0.0.1:6379/0`); the embedded store when absent. */
  readonly redisUrl?: string;
  /** Ring points per member. @default 128 */
  readonly vnodes?: number;
  /** With Redis: a member unheard from for this long is no home any more, ms; 0 = never. @default {@link DEFAULT_FAILOVER_MS} */
  readonly failoverMs?: number;
}

/** The default of {@link CacheServiceOptions.failoverMs}. */
export const DEFAULT_FAILOVER_MS = 1000;

const COUNTERS: readonly (readonly [string, string, keyof CacheCounters])[] = [
  ['dsync_cache_hits_total', 'Reads served from a valid line on this node', 'hits'],
  ['dsync_cache_misses_total', "Reads that went to the key's home", 'misses'],
  ['dsync_cache_lease_expiries_total', 'Reads that found this node’s copy with its lease run out', 'leaseExpiries'],
  ['dsync_cache_invalidations_sent_total', 'Invalidations this node sent as a home', 'invalidationsSent'],
  ['dsync_cache_invalidations_received_total', 'Invalidations this node received as a holder', 'invalidationsReceived'],
  ['dsync_cache_downgrades_total', 'Downgrades (Modified/Exclusive → Shared) this node asked for as a home', 'downgrades'],
  ['dsync_cache_writebacks_total', 'Dirty values this node wrote to the store as a home', 'writebacks'],
  ['dsync_cache_writebacks_lost_total', 'Dirty values this node could not write back (lost: write-back policy)', 'writebacksLost'],
  ['dsync_cache_evictions_total', 'Lines pushed out of this node’s LRU', 'evictions'],
  ['dsync_cache_lease_waits_total', 'Times this home went on past an unreachable holder once its lease was surely over', 'leaseWaits'],
  ['dsync_cache_local_writes_total', 'Writes done in place on an Exclusive/Modified line (write-back)', 'localWrites'],
];

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function start(ctx: ServiceContext, o: CacheServiceOptions): Promise<NodeService> {
  const dir = join(ctx.dataDir, 'cache');
  // A node that was a home before may have granted copies still being served: it waits them out.
  const restarted = await exists(dir);
  let store: BackingStore;
  if (o.redisUrl !== undefined) {
    await mkdir(dir, { recursive: true });
    store = await RedisStore.connect(o.redisUrl, { log: (msg) => ctx.log.warn({ redis: describeRedisUrl(o.redisUrl as string) }, msg) });
  } else {
    store = await EmbeddedStore.open(dir, { io: ctx.io, log: (msg) => ctx.log.warn(msg) });
  }
  const members = [...ctx.members.keys()];
  // Every member in each key's preference order: a dead home's keys go to the next one up.
  const ring = await HashRing.create(members, { vnodes: o.vnodes ?? 128, replication: members.length });
  const fencing = store.fencing;
  const failoverMs = fencing === undefined ? 0 : (o.failoverMs ?? DEFAULT_FAILOVER_MS);
  let homeView: HomeView | undefined;
  try {
    homeView = await fencing?.read();
  } catch (e) {
    await store.close();
    throw new Error(`cache: cannot read the home map from ${store.kind}: ${errorMessage(e)}`, { cause: e });
  }
  const engine = new CacheEngine({
    id: ctx.id,
    members,
    preferenceOf: (key) => ring.preferenceList(key),
    store,
    ...(homeView !== undefined ? { homeView } : {}),
    ...(failoverMs > 0 ? { failover: { afterMs: failoverMs, probeMs: Math.max(20, Math.min(200, Math.floor(failoverMs / 5))) } } : {}),
    peers: forwarderPeers(ctx.forwarder),
    requestTimeoutMs: ctx.requestTimeoutMs,
    restarted,
    ...(o.policy !== undefined ? { policy: o.policy } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    ...(o.driftBound !== undefined ? { driftBound: o.driftBound } : {}),
    ...(o.maxEntries !== undefined ? { maxEntries: o.maxEntries } : {}),
    ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
    onEvent: (event, fields) => ctx.log.info({ cache: event, ...fields }, `cache: ${event}`),
  });
  const fps = enabledFailpoints().filter((f) => f.startsWith('cache.'));
  if (fps.length > 0) ctx.log.warn({ failpoints: fps }, `cache failpoints enabled: ${fps.join(', ')} — the cache serves stale values on purpose (a test aid)`);
  if (engine.policy === 'write-back') ctx.log.warn({ policy: 'write-back' }, 'cache write-back: a crash of a node loses the writes it holds Modified and has not written back');
  if (o.failoverMs !== undefined && o.failoverMs > 0 && fencing === undefined) ctx.log.warn({ failoverMs: o.failoverMs }, 'cache: --cache-failover-ms needs --redis (a store every node shares); the embedded store keeps each key at its home, fail-over is off');
  if (failoverMs > 0) ctx.log.info({ failoverMs, homeMap: engine.router.view }, `cache: a home unheard from for ${failoverMs} ms hands its keys to the next node of their preference lists`);
  if (restarted && engine.holdMs > 0) ctx.log.info({ holdMs: engine.holdMs }, 'cache: restarted, serving as a home after one hold period');
  for (const [name, help, key] of COUNTERS) observedCounter(ctx.registry, name, help, () => engine.counters[key]);
  new Gauge({
    name: 'dsync_cache_hit_ratio',
    help: 'Hits over reads on this node since it started (0 before any read)',
    registers: [ctx.registry],
    collect() {
      const { hits, misses } = engine.counters;
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });
  new Gauge({
    name: 'dsync_cache_lines',
    help: 'Lines this node holds, per MESI state',
    labelNames: ['state'],
    registers: [ctx.registry],
    collect() {
      const s = engine.lines.counts();
      for (const state of ['M', 'E', 'S'] as const) this.set({ state }, s[state]);
    },
  });
  new Gauge({
    name: 'dsync_cache_home_map_epoch',
    help: 'The epoch of the home map this node knows (each fail-over or return of a home adds one)',
    registers: [ctx.registry],
    collect() {
      this.set(engine.router.view.epoch);
    },
  });
  observedCounter(ctx.registry, 'dsync_cache_home_map_changes_total', 'Changes of the home map this node made (a home marked down, or itself back up)', () => engine.failover?.changes ?? 0);
  new Gauge({
    name: 'dsync_cache_directory_keys',
    help: 'Keys with at least one holder in this node’s directory (as a home)',
    registers: [ctx.registry],
    collect() {
      this.set(engine.home.directory.size);
    },
  });
  return {
    name: 'cache',
    routes: cacheRoutes(engine, ctx.bodyLimit),
    openapi: { paths: cacheOpenApiPaths() },
    status: () => ({
      policy: engine.policy,
      leaseMs: engine.leaseMs,
      holdMs: engine.holdMs,
      driftBound: engine.driftBound,
      store: { kind: store.kind, ...store.stats() },
      ...engine.stats(),
      counters: engine.counters,
      ring: ring.describe(),
      homes: { ...engine.router.view, failoverMs, changesMade: engine.failover?.changes ?? 0 },
    }),
    close: async () => {
      await engine.close();
      await store.close();
    },
  };
}

/** The cache service, for a node's list of services. */
export function cacheServiceFactory(o: CacheServiceOptions = {}): ServiceFactory {
  return { name: 'cache', prepare: () => ({ start: (ctx) => start(ctx, o) }) };
}
