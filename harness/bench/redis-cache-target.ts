/**
 * Redis as a cache-benchmark target, for comparison: one `redis-server` on loopback with an
 * fsync-always AOF (as the harness runs it as the cache's main memory), read with `GET` and
 * written with `SET` through ioredis, one connection per client.
 */
import { Redis } from 'ioredis';
import { errorMessage } from '../../cluster/errors.js';
import type { CacheClient, CacheTarget } from './cache-target.js';
import { startRedisServer } from '../redis-server.js';

/** Starts one Redis on 127.0.0.1 with an fsync-always AOF in `dir`, and waits until it answers PING. */
export async function startRedisCache(opts: { dir: string; log?: (line: string) => void }): Promise<CacheTarget> {
  const label = 'Redis 1 server, AOF fsync always';
  const server = await startRedisServer({ ...opts, label });
  const { host, port } = server;
  let stopped = false;
  return {
    label,
    nodes: 1,
    async client(): Promise<CacheClient> {
      if (stopped) throw new Error(`${label} is stopped`);
      const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 30_000 });
      let lastError: unknown;
      redis.on('error', (e: unknown) => (lastError = e)); // a failed command rejects; this only keeps the event from crashing us
      try {
        await redis.connect();
      } catch (e) {
        redis.disconnect();
        throw new Error(`${label}: cannot connect: ${errorMessage(lastError ?? e)}`);
      }
      return {
        async get(key: string) {
          return { found: (await redis.get(key)) !== null };
        },
        async put(key: string, value: string) {
          await redis.set(key, value);
        },
        async close() {
          await redis.quit().catch(() => redis.disconnect());
        },
      };
    },
    pids: () => (server.process.pid === undefined ? [] : [server.process.pid]),
    async stop() {
      stopped = true;
      await server.stop();
    },
  };
}
