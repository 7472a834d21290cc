/**
 * One dsync node: opens its data dir, recovers, starts its Raft node and the services it is
 * configured with (`services.ts`: the lock manager and the queue; a service may open Raft groups
 * of its own, `raft-group.ts`), and serves their APIs and peer RPC
 * over one HTTP server. {@link startNode} returns once it listens; `stop()` shuts it down cleanly
 * (stops accepting, lets the disk finish what it was writing, closes connections).
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { RaftStorage } from '../raft/storage.js';
import { realFileIo } from '../raft/file-io.js';
import { LazyFileIo, LOSE_UNSYNCED_ENV, loseUnsyncedFromEnv } from '../raft/lazy-file-io.js';
import { RaftNode, type StateMachine } from '../raft/raft-node.js';
import { PeerStreamTransport } from './peer-stream.js';
import { checkSecretMode, PeerAuthenticator } from './peer-auth.js';
import { RaftGroups, timingOptions, type RaftGroupTiming } from './raft-group.js';
import { Forwarder } from './forwarder.js';
import { ForwardChannel } from './forward-channel.js';
import { NodeMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { forwardedRoutes, nodeRoutes, requestListener } from './routes.js';
import { boundServer, checkHttpLimits, DEFAULT_HTTP_LIMITS, serverOptions, type HttpLimits } from './http-bounds.js';
import { lockDataDir } from './data-dir-lock.js';
import { rawReply } from './http-util.js';
import { nodeServices, type ServiceOptions } from './services.js';
import { APPLIED_DIGEST_MSG, stateDigest } from './state-digest.js';
import type { NodeService, ServiceFactory, ServicePlan } from './service.js';
import { checkFailpoints, enabledFailpoints } from '../failpoints.js';

/** A node's configuration (the `dsync node` flags). */
/** A node's options; the services' own (`ServiceOptions`: queue and cache flags) included. */
export interface NodeOptions extends ServiceOptions {
  readonly id: string;
  /** host:port to listen on. */
  readonly listen: string;
  /** Every member (this one included): id → host:port where the others reach it. */
  readonly peers: ReadonlyMap<string, string>;
  readonly dataDir: string;
  readonly log: Logger;
  /**
   * The secret every member of the cluster shares: peer RPC must prove it (`peer-auth.ts`).
   * Required unless `insecure`.
   */
  readonly clusterSecret?: Buffer;
  /** Run without a cluster secret: anyone who reaches the port may send Raft messages. @default false */
  readonly insecure?: boolean;
  /** @default 20 */
  readonly tickMs?: number;
  /** @default 10 (with 20 ms ticks: elections after 200–400 ms of silence) */
  readonly electionTicks?: number;
  /** @default 2 */
  readonly heartbeatTicks?: number;
  /** @default 10000 */
  readonly snapshotEvery?: number;
  /** Most Raft entries per AppendEntries message. @default 512 */
  readonly maxAppendEntries?: number;
  /** Most AppendEntries messages in flight, unacknowledged, to one follower. @default 32 */
  readonly maxInflight?: number;
  /**
   * Log a digest of the replicated state every this many applied entries (`applied state
   * digest`, with index, term and a SHA-256 prefix); the harness compares them across nodes.
   * 0 = never. @default 0
   */
  readonly auditEvery?: number;
  /** @default 5000 */
  readonly requestTimeoutMs?: number;
  /** @default 65536 */
  readonly bodyLimit?: number;
  /** Time to receive a request's headers, ms. @default 10000 (see `http-bounds.ts`) */
  readonly headerTimeoutMs?: number;
  /** Time to receive a request's body, ms (peer streams exempt). @default 30000 */
  readonly bodyTimeoutMs?: number;
  /** A connection with no request in progress is closed after this long, ms. @default 65000 */
  readonly idleTimeoutMs?: number;
  /** Most open connections on the listener. @default 1024 */
  readonly maxConnections?: number;
  /** Most locks held or waited for. @default 100000 */
  readonly maxLocks?: number;
  /** Most waiters queued on one lock. @default 1000 */
  readonly maxWaitersPerLock?: number;
  /** Points per node on the queue's hash ring. @default 128 */
  readonly queueVnodes?: number;
  /** Replicas per queue. @default 3 */
  readonly queueReplication?: number;
  /** Most messages pending per queue replica group. @default 1000000 */
  readonly maxQueueMessages?: number;
  readonly version?: string;
  /**
   * TEST AID that breaks safety on purpose: serve the lock API from a table of this node's own,
   * without Raft (see `LocalOnlyRaft`). @default false
   */
  readonly unsafeGrantWithoutQuorum?: boolean;
  /**
   * TEST AID: the storage keeps what it has not fsynced in memory (`LazyFileIo`), so a kill -9
   * loses it as a power cut would. @default `$DSYNC_LOSE_UNSYNCED` is 1
   */
  readonly loseUnsynced?: boolean;
  /** The services to run. @default nodeServices(this) (services.ts) */
  readonly services?: readonly ServiceFactory[];
}

/** A state machine for a node none of whose services replicates through Raft. */
const NO_MACHINE: StateMachine = { apply: () => null, restore: () => undefined, snapshot: () => null };

/** The one state machine the services hand to Raft (at most one may). */
function raftMachine(plans: readonly { name: string; plan: ServicePlan }[]): StateMachine {
  const replicated = plans.filter((p) => p.plan.machine !== undefined);
  if (replicated.length > 1) throw new RangeError(`services ${replicated.map((p) => p.name).join(' and ')} both replicate through the Raft log; at most one may`);
  return replicated[0]?.plan.machine ?? NO_MACHINE;
}

/** A running node. */
export interface RunningNode {
  readonly id: string;
  /** host:port it listens on (the real port when `listen` asked for port 0). */
  readonly address: string;
  readonly raft: RaftNode;
  /** Stops serving and closes the data dir; idempotent. */
  stop(): Promise<void>;
  /** Resolves when the node stopped by itself (its disk failed), with the reason. */
  readonly failed: Promise<Error>;
}

/** Splits `host:port` (IPv6 in brackets). */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new RangeError(`expected host:port, got "${s}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Starts a node. */
export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const log = o.log;
  checkFailpoints();
  const lazy = (o.loseUnsynced ?? loseUnsyncedFromEnv()) ? new LazyFileIo() : null;
  if (!o.peers.has(o.id)) throw new RangeError(`--peers does not list this node's id "${o.id}"`);
  const { host, port } = parseHostPort(o.listen);
  const secret = o.clusterSecret ?? null;
  checkSecretMode(secret, o.insecure === true);
  const limits: HttpLimits = checkHttpLimits({
    headerTimeoutMs: o.headerTimeoutMs ?? DEFAULT_HTTP_LIMITS.headerTimeoutMs,
    bodyTimeoutMs: o.bodyTimeoutMs ?? DEFAULT_HTTP_LIMITS.bodyTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_HTTP_LIMITS.idleTimeoutMs,
    maxConnections: o.maxConnections ?? DEFAULT_HTTP_LIMITS.maxConnections,
  });
  // Composed before the data dir is taken: a list that cannot be composed leaves nothing to undo.
  const factories = o.services ?? nodeServices(o);
  const plans = factories.map((f) => ({ name: f.name, plan: f.prepare() }));
  const machine = raftMachine(plans);
  const unlockDir = await lockDataDir(o.dataDir);
  let opened: Awaited<ReturnType<typeof RaftStorage.open>>;
  try {
    // 1 MiB of zeros ahead of the appends: fdatasyncs then overwrite in place (no file-size commit).
    opened = await RaftStorage.open(o.dataDir, { preallocateBytes: 1 << 20, io: lazy ?? realFileIo });
  } catch (e) {
    await unlockDir();
    throw e;
  }
  const { storage, recovered } = opened;
  const failpoints = enabledFailpoints();
  if (failpoints.length > 0) log.warn({ failpoints }, `failpoints enabled: ${failpoints.join(', ')} — safety is broken on purpose (a test aid)`);
  if (lazy !== null) log.warn({ storage: { loseUnsynced: true } }, `${LOSE_UNSYNCED_ENV}: unsynced writes are kept in memory and lost at a kill -9, as at a power cut (a test aid)`);
  for (const note of recovered.repaired) log.warn({ note }, 'data dir repaired on open');
  log.info(
    { term: recovered.hard.term, vote: recovered.hard.vote, snapshot: recovered.snapshot?.meta.index ?? 0, entries: recovered.entries.length },
    'recovered',
  );

  const onPeerError = (peer: string, err: Error): void => log.warn({ peer, err: err.message }, 'peer unreachable');
  if (secret === null) log.warn({ insecure: true }, '--insecure: peer RPC is not authenticated; anyone who reaches this port can send Raft messages');
  const transport = new PeerStreamTransport(o.peers, o.id, secret, onPeerError);
  const timing: RaftGroupTiming = {
    tickMs: o.tickMs ?? 20,
    electionTicks: o.electionTicks ?? 10,
    heartbeatTicks: o.heartbeatTicks ?? 2,
    snapshotEvery: o.snapshotEvery ?? 10_000,
    maxEntriesPerMessage: o.maxAppendEntries,
    maxInflight: o.maxInflight,
  };
  let metrics: NodeMetrics | undefined;
  const services: NodeService[] = [];
  let reportFailure: (e: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  const raft = new RaftNode({
    id: o.id,
    members: [...o.peers.keys()],
    storage,
    recovered,
    transport,
    machine,
    ...timingOptions(timing),
    auditEvery: o.auditEvery ?? 0,
    observer: {
      persisted: (s) => metrics?.fsync.observe(s),
      applied: (n) => metrics?.committed.inc(n),
      roleChanged: (role, term, leader) => {
        log.info({ role, term, leader }, 'raft role');
        if (role === 'candidate') metrics?.elections.inc();
        if (leader !== null) metrics?.leaderChanges.inc();
        for (const svc of services) svc.onLeadership?.(role, term, leader);
      },
      snapshotTaken: (index, s) => {
        metrics?.snapshots.inc();
        log.info({ index, ms: Math.round(s * 1000) }, 'snapshot taken, log compacted');
      },
      snapshotInstalled: (index) => {
        metrics?.snapshotsInstalled.inc();
        log.info({ index }, 'snapshot installed from the leader');
      },
      audited: (index, term, state) => log.info({ index, term, state: stateDigest(state) }, APPLIED_DIGEST_MSG),
      rejected: (err, m) => log.warn({ err: err.message, from: m.from, type: m.type }, 'peer message refused'),
      applyFailed: (err, e) => log.error({ err: err.message, index: e.index, term: e.term }, 'a committed entry could not be applied; skipped'),
      fatal: (err) => {
        log.fatal({ err }, 'raft stopped: the disk refused a write; restart the node to recover from its data dir');
        reportFailure(err);
      },
    },
  });
  const bodyLimit = o.bodyLimit ?? 65_536;
  const forwarding = new ForwardChannel({ addresses: o.peers, self: o.id, secret, bodyLimit, onError: (peer, err) => log.warn({ peer, err: err.message }, 'forwarding: peer unreachable') });
  metrics = new NodeMetrics({ status: () => raft.status(), peerStats: () => transport.stats, forwardStats: () => forwarding.stats }, { node: o.id });
  const forwarder = new Forwarder(o.peers, o.id, { channel: forwarding });
  const groups = new RaftGroups({
    self: o.id,
    addresses: o.peers,
    secret,
    dataDir: o.dataDir,
    io: lazy ?? realFileIo,
    log,
    timing,
    onFatal: (err) => reportFailure(err),
  });
  const registry = metrics.registry;
  let server: Server | undefined;
  try {
    // One by one, so that those started before one that throws are closed again below.
    for (const { name, plan } of plans) {
      services.push(
        await plan.start({
          id: o.id,
          members: o.peers,
          dataDir: o.dataDir,
          io: lazy ?? realFileIo,
          raft,
          openRaftGroup: (spec) => groups.open(spec),
          forwarder,
          log: log.child({ service: name }),
          registry,
          bodyLimit,
          requestTimeoutMs: o.requestTimeoutMs ?? 5000,
        }),
      );
    }
    const openapi = openApiDocument(o.version ?? '0.0.0', services.map((svc) => ({ name: svc.name, ...svc.openapi })));
    const own = nodeRoutes({
      id: o.id,
      members: o.peers,
      raft,
      groups: groups.byName,
      services,
      metrics,
      openapi,
      auth: new PeerAuthenticator(secret, o.id, o.peers.keys()),
      forwarding,
      log,
      loseUnsynced: lazy !== null,
    });
    const routes = [...services.flatMap((svc) => svc.routes), ...own];
    forwarding.setRoutes(forwardedRoutes(routes));
    const listening = createServer(serverOptions(limits), requestListener(routes, { metrics, log }));
    boundServer(listening, limits, log);
    server = listening;
    listening.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end(rawReply('400 Bad Request', 'bad-request', 'malformed HTTP request'));
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, host, () => {
        listening.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    for (const svc of services) await svc.close();
    await groups.close();
    await raft.stop();
    await transport.close();
    await forwarding.close();
    await forwarder.close();
    await unlockDir();
    throw e;
  }
  // The closures below need it typed as assigned (the catch above always throws).
  const http = server;
  const addr = http.address();
  const address = typeof addr === 'object' && addr !== null ? `${host}:${addr.port}` : o.listen;
  log.info({ address, members: Object.fromEntries(o.peers), limits }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const svc of services) await svc.close();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await raft.stop();
      await groups.close();
      // A clean stop is no power cut: write back what the lazy storage still holds, as an OS would.
      await lazy?.flush().then(() => lazy.close()).catch((err: unknown) => log.warn({ err: String(err) }, 'lazy storage: flush at stop failed'));
      // Long polls were answered (503) when raft stopped; cut whatever connection is left.
      http.closeAllConnections();
      await closed;
      await transport.close();
      await forwarding.close();
      await forwarder.close();
      await unlockDir();
      log.info('stopped');
    })());
  return { id: o.id, address, raft, stop, failed };
}
