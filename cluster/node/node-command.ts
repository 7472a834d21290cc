/**
 * `dsync node`: runs one node in the foreground until SIGTERM or SIGINT, logging JSON lines
 * (pino) to stdout. Exit 0 after a clean shutdown; 1 if the node failed (e.g. its disk); 2 for
 * bad flags, no cluster secret without `--insecure`, a test aid without `DSYNC_TEST_AIDS=1`
 * (`cluster/test-aids.ts`) or an unknown name in `$DSYNC_FAILPOINTS` (see `cluster/failpoints.ts`).
 */
import { pino, type Logger } from 'pino';
import { parseHostPort, startNode, type RunningNode } from './node.js';
import { checkFailpoints, enabledFailpoints, FAILPOINTS_ENV } from '../failpoints.js';
import { LOSE_UNSYNCED_ENV, loseUnsyncedFromEnv } from '../raft/lazy-file-io.js';
import { checkTestAids } from '../test-aids.js';
import type { WritePolicy } from '../cache/cache-engine.js';
import { checkSecretMode, CLUSTER_SECRET_ENV, loadClusterSecret } from './peer-auth.js';

/** The parsed flags. */
export interface NodeFlags {
  id: string;
  listen: string;
  peers: string;
  data: string;
  redis?: string;
  clusterSecretFile?: string;
  insecure?: boolean;
  logLevel?: string;
  tickMs?: number;
  electionTicks?: number;
  snapshotEvery?: number;
  maxAppendEntries?: number;
  maxInflight?: number;
  auditEvery?: number;
  requestTimeoutMs?: number;
  headerTimeoutMs?: number;
  bodyTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxLocks?: number;
  maxWaitersPerLock?: number;
  queueVnodes?: number;
  queueReplication?: number;
  maxQueueMessages?: number;
  cachePolicy?: WritePolicy;
  cacheLeaseMs?: number;
  cacheDriftBound?: number;
  cacheMaxEntries?: number;
  cacheMaxBytes?: number;
  cacheFailoverMs?: number;
  unsafeGrantWithoutQuorum?: boolean;
  exitWithParent?: boolean;
}

/** Parses `n1=127.0.0.1:7001,n2=...`; an error names the bad item. */
export function parsePeers(s: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const item of s.split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new RangeError(`--peers: "${item}" is not id=host:port`);
    const id = item.slice(0, eq);
    const address = item.slice(eq + 1);
    try {
      parseHostPort(address);
    } catch {
      throw new RangeError(`--peers: "${item}": "${address}" is not host:port`);
    }
    if (peers.has(id)) throw new RangeError(`--peers: "${id}" is listed twice`);
    peers.set(id, address);
  }
  if (peers.size === 0) throw new RangeError('--peers: no members given');
  return peers;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Runs the node until a signal; resolves to the exit code. */
export async function nodeCommand(flags: NodeFlags, io: { err(line: string): void }, version: string): Promise<number> {
  let peers: Map<string, string>;
  let secret: Buffer | null;
  try {
    checkFailpoints();
    const failpoints = enabledFailpoints();
    checkTestAids([
      ...(flags.unsafeGrantWithoutQuorum ? ['--unsafe-grant-without-quorum'] : []),
      ...(failpoints.length > 0 ? [`${FAILPOINTS_ENV}=${failpoints.join(',')}`] : []),
      ...(loseUnsyncedFromEnv() ? [`${LOSE_UNSYNCED_ENV}=1`] : []),
    ]);
    secret = loadClusterSecret(flags.clusterSecretFile);
    checkSecretMode(secret, flags.insecure === true, flags.clusterSecretFile !== undefined ? '--cluster-secret-file' : `$${CLUSTER_SECRET_ENV}`);
    parseHostPort(flags.listen);
    peers = parsePeers(flags.peers);
    if (!peers.has(flags.id)) throw new RangeError(`--peers does not list --id "${flags.id}" (members: ${[...peers.keys()].join(', ')})`);
    if (flags.logLevel !== undefined && !LEVELS.includes(flags.logLevel)) throw new RangeError(`--log-level must be one of ${LEVELS.join(', ')}`);
    if (flags.redis !== undefined && !/^rediss?:\/\//.test(flags.redis)) throw new RangeError(`--redis must be a redis:// URL, got "${flags.redis}"`);
  } catch (e) {
    io.err(`dsync node: ${(e as Error).message}`);
    return 2;
  }
  const log: Logger = pino({ level: flags.logLevel ?? process.env['DSYNC_LOG_LEVEL'] ?? 'info', base: { node: flags.id } });
  let node: RunningNode;
  try {
    node = await startNode({
      id: flags.id,
      listen: flags.listen,
      peers,
      dataDir: flags.data,
      log,
      ...(secret !== null ? { clusterSecret: secret } : { insecure: true }),
      version,
      // Flags not given are undefined: startNode takes its defaults for them.
      tickMs: flags.tickMs,
      electionTicks: flags.electionTicks,
      snapshotEvery: flags.snapshotEvery,
      maxAppendEntries: flags.maxAppendEntries,
      maxInflight: flags.maxInflight,
      auditEvery: flags.auditEvery,
      requestTimeoutMs: flags.requestTimeoutMs,
      headerTimeoutMs: flags.headerTimeoutMs,
      bodyTimeoutMs: flags.bodyTimeoutMs,
      idleTimeoutMs: flags.idleTimeoutMs,
      maxConnections: flags.maxConnections,
      maxLocks: flags.maxLocks,
      maxWaitersPerLock: flags.maxWaitersPerLock,
      queueVnodes: flags.queueVnodes,
      queueReplication: flags.queueReplication,
      maxQueueMessages: flags.maxQueueMessages,
      cachePolicy: flags.cachePolicy,
      cacheLeaseMs: flags.cacheLeaseMs,
      cacheDriftBound: flags.cacheDriftBound,
      cacheMaxEntries: flags.cacheMaxEntries,
      cacheMaxBytes: flags.cacheMaxBytes,
      cacheFailoverMs: flags.cacheFailoverMs,
      redisUrl: flags.redis,
      ...(flags.unsafeGrantWithoutQuorum ? { unsafeGrantWithoutQuorum: true } : {}),
    });
  } catch (e) {
    log.fatal({ err: e }, 'start failed');
    io.err(`dsync node: could not start ${flags.id}: ${(e as Error).message}`);
    return 1;
  }
  const outcome = await new Promise<{ code: number; why: string }>((resolve) => {
    const onSignal = (sig: string): void => resolve({ code: 0, why: `${sig}` });
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    void node.failed.then((e) => resolve({ code: 1, why: e.message }));
    if (flags.exitWithParent) {
      // A harness killed with SIGKILL cannot stop its nodes: they notice being orphaned instead.
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid !== parent) resolve({ code: 0, why: `parent process ${parent} is gone` });
      }, 500);
      watch.unref();
    }
  });
  log.info({ why: outcome.why }, 'shutting down');
  await node.stop();
  if (outcome.code !== 0) io.err(`dsync node ${flags.id}: stopped: ${outcome.why}`);
  return outcome.code;
}
