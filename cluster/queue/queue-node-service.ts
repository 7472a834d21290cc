/**
 * The queue as a service of a node: it places queues on a hash ring (`queue-placement.ts`),
 * opens a Raft group for each replica group this node is in (`QueueMachine` is its state
 * machine), and serves `/queue/*` on each group's leader (`queue-group.ts`, `queue-routes.ts`).
 * Why Raft groups rather than an owner that replicates by itself: see the README ("The queue").
 */
import { Gauge } from 'prom-client';
import { QueueMachine } from './queue-machine.js';
import { QueueGroup, type QueueCounters } from './queue-group.js';
import { QueuePlacement } from './queue-placement.js';
import { queueOpenApiPaths, queueRoutes } from './queue-routes.js';
import { DEFAULT_VNODES } from '../hash-ring.js';
import { observedCounter } from '../node/metrics.js';
import type { NodeService, ServiceContext, ServiceFactory } from '../node/service.js';
import { enabledFailpoints } from '../failpoints.js';

/** Options of the queue service. */
export interface QueueServiceOptions {
  /** Ring points per member (`--queue-vnodes`). @default 128 */
  readonly vnodes?: number;
  /** Replicas per queue, at most the cluster's size (`--queue-replication`). @default 3 */
  readonly replication?: number;
  /** Most messages pending per replica group (`--max-queue-messages`). @default 1000000 */
  readonly maxMessages?: number;
}

const COUNTERS: readonly (readonly [string, string, keyof QueueCounters])[] = [
  ['dsync_queue_enqueued_total', 'Messages enqueued (committed) by this node as a group leader', 'enqueued'],
  ['dsync_queue_delivered_total', 'Deliveries (dequeues that leased a message) by this node as a group leader', 'delivered'],
  ['dsync_queue_redelivered_total', 'Deliveries of a message this leader had delivered before (its lease ran out)', 'redelivered'],
  ['dsync_queue_acked_total', 'Messages acknowledged (committed) by this node as a group leader', 'acked'],
  ['dsync_queue_failovers_total', 'Times this node became the leader of a queue group', 'failovers'],
];

async function start(ctx: ServiceContext, o: QueueServiceOptions): Promise<NodeService> {
  const placement = await QueuePlacement.create([...ctx.members.keys()], ctx.id, { vnodes: o.vnodes ?? DEFAULT_VNODES, replication: o.replication ?? 3 });
  const groups = new Map<string, QueueGroup>();
  for (const { group: name, members } of placement.groups) {
    if (!members.includes(ctx.id)) continue;
    const machine = new QueueMachine();
    let group: QueueGroup | undefined;
    const raft = await ctx.openRaftGroup({ name, members, machine, observer: { roleChanged: (role) => group?.leadershipChanged(role) } });
    group = new QueueGroup(name, members, raft, machine, { requestTimeoutMs: ctx.requestTimeoutMs, ...(o.maxMessages !== undefined ? { maxMessages: o.maxMessages } : {}) });
    groups.set(name, group);
  }
  const fps = enabledFailpoints().filter((f) => f.startsWith('queue.'));
  if (fps.length > 0) ctx.log.warn({ failpoints: fps }, `queue failpoints enabled: ${fps.join(', ')} — the queue loses or re-delivers messages on purpose (a test aid)`);
  const all = [...groups.values()];
  for (const [name, help, key] of COUNTERS) observedCounter(ctx.registry, name, help, () => all.reduce((n, g) => n + g.counters[key], 0));
  new Gauge({
    name: 'dsync_queue_depth',
    help: 'Messages enqueued and not acknowledged, per queue (on every replica)',
    labelNames: ['queue'],
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const g of all) for (const [q, d] of Object.entries(g.depths())) this.set({ queue: q }, d.depth);
    },
  });
  new Gauge({
    name: 'dsync_queue_replication_lag_entries',
    help: "Per queue group: on its leader, entries in its log not yet on a majority; on a follower, committed entries not yet applied",
    labelNames: ['group'],
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const g of all) {
        const s = g.raft.status();
        this.set({ group: g.name }, s.role === 'leader' ? s.lastIndex - s.commitIndex : s.commitIndex - s.lastApplied);
      }
    },
  });
  return {
    name: 'queue',
    routes: queueRoutes({ id: ctx.id, placement, groups, forwarder: ctx.forwarder, requestTimeoutMs: ctx.requestTimeoutMs }, ctx.bodyLimit),
    openapi: { paths: queueOpenApiPaths() },
    status: () => ({
      ring: placement.ring.describe(),
      groups: placement.groups.map(({ group: name, members }) => {
        const g = groups.get(name);
        if (!g) return { id: name, members, member: false };
        const s = g.raft.status();
        return { id: name, members, member: true, role: s.role, term: s.term, leader: s.leader, commitIndex: s.commitIndex, lastApplied: s.lastApplied, ...g.counters, queues: g.depths() };
      }),
    }),
    close: () => {
      for (const g of all) g.close();
    },
  };
}

/** The queue service, for a node's list of services. */
export function queueServiceFactory(o: QueueServiceOptions = {}): ServiceFactory {
  return { name: 'queue', prepare: () => ({ start: (ctx) => start(ctx, o) }) };
}
