/**
 * Redis as a cache-benchmark target, for comparison: one `redis-server` on loopback with an
 * fsync-always AOF (as the harness runs it as the cache's main memory), read with `GET` and
 * written with `SET` through ioredis, one connection per client.
 */
import type { CacheClient, CacheTarget } from './cache-target.js';
import { connectRedis, startRedisServer } from '../redis-server.js';

/** Starts one Redis on 127.0.0.1 with an fsync-always AOF in `dir`, and waits until it answers PING. */
export async function startRedisCache(opts: { dir: string; log?: (line: string) => void }): Promise<CacheTarget> {
  const label = 'Redis 1 server, AOF fsync always';
  const server = await startRedisServer({ ...opts, label });
  let stopped = false;
  return {
    label,
    nodes: 1,
    async client(): Promise<CacheClient> {
      if (stopped) throw new Error(`${label} is stopped`);
      const redis = await connectRedis(server, label, { commandTimeout: 30_000 });
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
