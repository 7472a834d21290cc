/**
 * etcd as a lock-benchmark target, for comparison: a 1- or 3-member etcd (3.4) started on
 * loopback, driven through its v3 HTTP/JSON gateway (`/v3/lease/grant`, `/v3/lock/lock`,
 * `/v3/lock/unlock`, `/v3/lease/revoke`) over keep-alive connections.
 *
 * Clients are spread over the members round-robin: client `i` talks to member `i mod members`
 * (the lock bench does the same for dsync nodes). Each client has a lease of its own (its
 * session), granted when the client is made, kept alive in the background and revoked on close.
 */
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { Pool } from 'undici';
import type { LockTarget, PairClient } from './lock-target.js';
import { errorMessage } from '../../cluster/errors.js';

/** How {@link startEtcd} starts etcd. */
export interface EtcdOptions {
  members: 1 | 3;
  /** The target's own folder: created if missing, holds the members' data dirs, removed by `stop()`. */
  dir: string;
  /** Member `i` serves clients on `basePort + 2i` and peers on `basePort + 2i + 1` (default {@link DEFAULT_ETCD_BASE_PORT}). */
  basePort?: number;
  /** Receives progress lines and the lines the members log (at level error and above). */
  log?: (line: string) => void;
  /** How long the cluster may take to become healthy (default 20 s). */
  startTimeoutMs?: number;
  /** TTL of each client's lease in seconds, ≥ 3 (default {@link LEASE_TTL_S}); it is kept alive every third of it. */
  leaseTtlS?: number;
}

/** The default first port: far from etcd's usual 2379/2380, so a system etcd does not collide. */
export const DEFAULT_ETCD_BASE_PORT = 32379;
/** Default TTL of a client's lease, in seconds. */
export const LEASE_TTL_S = 60;
const HOST = '127.0.0.1';

/** Whether an executable `etcd` is on PATH. */
export async function etcdAvailable(): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      await access(join(dir, 'etcd'), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

interface Member {
  name: string;
  clientUrl: string;
  pool: Pool;
  process: ResultPromise<{ stdin: 'ignore'; stdout: 'ignore'; stderr: 'pipe'; buffer: false; reject: false }>;
  /** Set when the process has exited. */
  exit?: string;
  /** The last lines the member logged, for error messages. */
  tail: string[];
  /** Why the last health check failed. */
  health: string;
}

/**
 * Starts an etcd cluster of `members` members on 127.0.0.1 and waits until every member reports
 * itself healthy. On failure every process started is stopped, the folder removed, and the error
 * names the member and what went wrong (its exit and last log lines, or its last health answer).
 */
export async function startEtcd(opts: EtcdOptions): Promise<LockTarget> {
  if (!(await etcdAvailable())) throw new Error('etcd is not installed (no etcd on PATH): apt-get install etcd-server');
  const { members: count, dir } = opts;
  const basePort = opts.basePort ?? DEFAULT_ETCD_BASE_PORT;
  const log = opts.log ?? (() => undefined);
  const label = `etcd ${count} member${count === 1 ? '' : 's'}`;
  const ttl = opts.leaseTtlS ?? LEASE_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 3) throw new RangeError(`leaseTtlS must be an integer ≥ 3, got ${ttl}`);
  const ports = Array.from({ length: count }, (_, i) => ({ client: basePort + 2 * i, peer: basePort + 2 * i + 1 }));
  for (const port of ports.flatMap((p) => [p.client, p.peer])) {
    if (!(await portFree(port))) throw new Error(`${label}: port ${port} on ${HOST} is in use (a leftover etcd? or choose another basePort)`);
  }
  await mkdir(dir, { recursive: true });

  const token = `dsync-bench-${process.pid}-${Date.now()}`;
  const initialCluster = ports.map((p, i) => `m${i}=http://${HOST}:${p.peer}`).join(',');
  const members: Member[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(members.map((m) => m.pool.destroy().catch(() => undefined)));
    await Promise.all(members.map((m) => killMember(m)));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const [i, p] of ports.entries()) {
      const name = `m${i}`;
      const clientUrl = `http://${HOST}:${p.client}`;
      const peerUrl = `http://${HOST}:${p.peer}`;
      const args = [
        ...['--name', name, '--data-dir', join(dir, name)],
        ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
        ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
        ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token],
        ...['--logger', 'zap', '--log-level', 'error'], // errors only: they end up in failure messages
      ];
      log(`${label}: starting ${name} (clients ${clientUrl}, peers ${peerUrl})`);
      const child = execa('etcd', args, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false, reject: false, cleanup: true });
      const member: Member = {
        name,
        clientUrl,
        pool: new Pool(clientUrl, { connections: null, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 }),
        process: child,
        tail: [],
        health: 'no answer yet',
      };
      members.push(member);
      void child.then(
        (r) => (member.exit = r.signal ? `killed by ${r.signal}` : `exited with code ${r.exitCode ?? '?'}`),
        (e: unknown) => (member.exit = `failed: ${errorMessage(e)}`),
      );
      createInterface({ input: child.stderr }).on('line', (line) => {
        member.tail.push(line);
        if (member.tail.length > 10) member.tail.shift();
        log(`${label} ${name}: ${line}`);
      });
    }
    await waitHealthy(label, members, opts.startTimeoutMs ?? 20_000);
    log(`${label}: healthy`);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    label,
    async client(i: number): Promise<PairClient> {
      if (stopped) throw new Error(`${label} is stopped`);
      const member = members[i % members.length];
      if (member === undefined) throw new Error(`${label}: no member for client ${i}`);
      return EtcdPairClient.open(member, ttl, log);
    },
    pids: () => members.flatMap((m) => (m.process.pid === undefined ? [] : [m.process.pid])),
    stop,
  };
}

/** Polls every member's `/health` until all say true; throws when the deadline passes or a member exits. */
async function waitHealthy(label: string, members: readonly Member[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const dead = members.find((m) => m.exit !== undefined);
    if (dead !== undefined) throw new Error(`${label}: ${dead.name} ${dead.exit} before the cluster was healthy${lastLines(dead)}`);
    const healthy = await Promise.all(members.map((m) => checkHealth(m)));
    if (healthy.every(Boolean)) return;
    if (performance.now() > deadline) {
      const sick = members.filter((_, i) => !healthy[i]);
      throw new Error(
        `${label}: not healthy after ${timeoutMs} ms: ${sick.map((m) => `${m.name} (${m.clientUrl}/health: ${m.health})`).join('; ')}` +
          (sick[0] === undefined ? '' : lastLines(sick[0])),
      );
    }
    await sleep(100);
  }
}

async function checkHealth(m: Member): Promise<boolean> {
  try {
    const res = await m.pool.request({ path: '/health', method: 'GET', signal: AbortSignal.timeout(2000) });
    const text = await res.body.text();
    m.health = `HTTP ${res.statusCode} ${text.trim().slice(0, 200)}`;
    return res.statusCode === 200 && (JSON.parse(text) as { health?: unknown }).health === 'true';
  } catch (e) {
    m.health = errorMessage(e);
    return false;
  }
}

const lastLines = (m: Member): string => (m.tail.length === 0 ? '' : `; its last log lines:\n  ${m.tail.join('\n  ')}`);

/**
 * Stops a member with SIGKILL (its data is thrown away, and a leader given SIGTERM first tries to
 * hand over leadership to members that are stopping too, which takes seconds); resolves once it
 * has exited.
 */
async function killMember(m: Member): Promise<void> {
  if (m.exit !== undefined) return;
  m.process.kill('SIGKILL');
  await m.process.catch(() => undefined);
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, HOST);
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** POSTs `body` as JSON to an etcd gateway path; resolves to the JSON answer, rejects on any non-200 answer. */
async function post(m: Member, path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const res = await m.pool.request({
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`etcd ${m.name} ${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`);
  }
  if (typeof json !== 'object' || json === null) throw new Error(`etcd ${m.name} ${path}: HTTP ${res.statusCode}, unexpected answer ${text.slice(0, 200)}`);
  const obj = json as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`etcd ${m.name} ${path}: HTTP ${res.statusCode}: ${String(obj['message'] ?? obj['error'] ?? text.slice(0, 200))}`);
  return obj;
}

const base64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** One benchmark client of etcd: one lease (its session) on one member. */
class EtcdPairClient implements PairClient {
  /** Aborts requests still pending when the client is closed. */
  readonly #abort = new AbortController();
  readonly #keepAlive: NodeJS.Timeout;

  private constructor(
    readonly member: Member,
    /** The lease ID: a decimal int64, kept as a string (it does not fit a double). */
    readonly lease: string,
    ttl: number,
    log: (line: string) => void,
  ) {
    this.#keepAlive = setInterval(() => {
      this.#refresh().catch((e: unknown) => log(`etcd ${member.name}: keeping lease ${lease} alive failed: ${errorMessage(e)}`));
    }, (ttl * 1000) / 3);
    this.#keepAlive.unref();
  }

  static async open(member: Member, ttl: number, log: (line: string) => void): Promise<EtcdPairClient> {
    const granted = await post(member, '/v3/lease/grant', { TTL: ttl });
    const id = granted['ID'];
    if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`etcd ${member.name} /v3/lease/grant: no lease ID in ${JSON.stringify(granted)}`);
    return new EtcdPairClient(member, String(id), ttl, log);
  }

  async pair(lock: string): Promise<void> {
    const signal = this.#abort.signal;
    // Blocks until the lock is ours; with our own lease the key is ours alone.
    const locked = await post(this.member, '/v3/lock/lock', { name: base64(lock), lease: this.lease }, signal);
    const key = locked['key'];
    if (typeof key !== 'string') throw new Error(`etcd ${this.member.name} /v3/lock/lock: no key in ${JSON.stringify(locked).slice(0, 200)}`);
    await post(this.member, '/v3/lock/unlock', { key }, signal);
  }

  async close(): Promise<void> {
    clearInterval(this.#keepAlive);
    this.#abort.abort(new Error('client closed'));
    await post(this.member, '/v3/lease/revoke', { ID: this.lease });
  }

  /** One lease keep-alive: the gateway streams the answers of `/v3/lease/keepalive`, so read the first and hang up. */
  async #refresh(): Promise<void> {
    const hangUp = new AbortController();
    const timer = setTimeout(() => hangUp.abort(new Error('no answer in 10 s')), 10_000);
    try {
      const res = await this.member.pool.request({
        path: '/v3/lease/keepalive',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ID: this.lease }),
        signal: hangUp.signal,
      });
      let text = '';
      for await (const chunk of res.body) {
        text += String(chunk);
        if (text.includes('\n')) break;
      }
      const first = JSON.parse(text.split('\n')[0] ?? '') as { result?: { TTL?: string | number }; error?: { message?: string } };
      if (res.statusCode !== 200 || first.result === undefined || Number(first.result.TTL ?? 0) <= 0) {
        throw new Error(`HTTP ${res.statusCode}: ${text.trim().slice(0, 200)}`);
      }
    } finally {
      clearTimeout(timer);
      hangUp.abort();
    }
  }
}
