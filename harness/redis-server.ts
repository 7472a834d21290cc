/**
 * A plain `redis-server` on 127.0.0.1, for the tests and the benchmarks: a free port, its data in
 * a folder of its own, an fsync-always AOF (`--appendonly yes --appendfsync always --save ''`:
 * every write is in the AOF, fsync'd, before Redis answers it), started and waited for until it
 * answers PING, killed by its handle; and the clients the benchmarks connect to it.
 */
import { mkdir, rm } from 'node:fs/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { freePorts } from '../cluster/local/node-process.js';
import { errorMessage } from '../cluster/errors.js';
import { onPath, ServerProcess, waitReady } from './bench/server-process.js';

/** How {@link startRedisServer} starts Redis. */
export interface RedisServerOptions {
  /** The server's own folder: created if missing, holds the AOF, removed by `stop()`. */
  readonly dir: string;
  /** Receives progress lines and the server's warnings. */
  readonly log?: (line: string) => void;
  /** How long the server may take to answer PING. @default 20000 */
  readonly startTimeoutMs?: number;
  /** Names the server in log lines and errors. @default 'redis-server' */
  readonly label?: string;
}

/** A running `redis-server`. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server process (its pid, its last log lines, whether it has exited). */
  readonly process: ServerProcess;
  /** Kills the server (SIGKILL), leaving its folder; resolves once it has exited. */
  kill(): Promise<void>;
  /** Kills the server and removes its folder. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Whether `redis-server` is on PATH. */
export const redisAvailable = (): Promise<boolean> => onPath('redis-server');

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with an fsync-always AOF in `opts.dir`, and
 * waits until it answers PING.
 * @throws Error when redis-server is not on PATH, exits, or does not answer in time
 */
export async function startRedisServer(opts: RedisServerOptions): Promise<RedisServer> {
  if (!(await redisAvailable())) throw new Error('redis-server is not installed (no redis-server on PATH): apt-get install redis-server');
  const { dir } = opts;
  const log = opts.log ?? (() => undefined);
  const label = opts.label ?? 'redis-server';
  const [port] = (await freePorts(1)) as [number];
  await mkdir(dir, { recursive: true });
  const args = [
    ...['--bind', HOST, '--port', String(port), '--dir', dir],
    ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    ...['--daemonize', 'no', '--logfile', '', '--loglevel', 'warning'],
  ];
  log(`${label}: starting on ${HOST}:${port}`);
  const server = new ServerProcess('redis', 'redis-server', args, log, (line) => /error|fatal/i.test(line));
  const probe = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined); // reported by ping() below
  let stopped = false;
  const handle: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    process: server,
    kill: () => server.kill(),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      probe.disconnect();
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    let why = 'no answer yet';
    const ready = async (): Promise<boolean> => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch (e) {
        why = errorMessage(e);
        probe.disconnect();
        return false;
      }
    };
    await waitReady(label, [server], ready, () => why, opts.startTimeoutMs ?? 20_000);
    const aof = await probe.config('GET', 'appendfsync');
    if (aof[1] !== 'always') throw new Error(`${label}: appendfsync is ${String(aof[1])}, not always`);
    probe.disconnect();
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}

/**
 * A client of `server`, connected: ioredis with `lazyConnect` and one retry per request, plus
 * `options`. Its `error` events are only kept for the message below (a failed command rejects on
 * its own), so an `error` event never crashes the process.
 * @throws Error `<label>: cannot connect: <why>` when the connection fails (the client is disconnected)
 */
export async function connectRedis(server: Pick<RedisServer, 'host' | 'port'>, label: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis({ host: server.host, port: server.port, lazyConnect: true, maxRetriesPerRequest: 1, ...options });
  let lastError: unknown;
  redis.on('error', (e: unknown) => (lastError = e));
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new Error(`${label}: cannot connect: ${errorMessage(lastError ?? e)}`);
  }
  return redis;
}
