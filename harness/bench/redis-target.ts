/**
 * Redis as a queue-benchmark target, for comparison: one `redis-server` on loopback with
 * `--appendonly yes --appendfsync always` (every write is in the AOF, fsync'd, before Redis
 * answers it), driven with the reliable-queue pattern through ioredis:
 * enqueue `LPUSH q "<id>\n<message>"`; dequeue `BLMOVE q q:processing RIGHT LEFT <wait>` (the
 * blocking LMOVE, so an idle consumer waits on the server instead of polling); ack
 * `LREM q:processing 1 <element>`. No reaper moves stale elements back from `processing` — the
 * benchmark's consumers ack everything they take.
 *
 * Single node only: compare it with dsync's 1-node cell. Each benchmark client has a connection
 * of its own (a blocked BLMOVE holds its connection).
 */
import type { Redis } from 'ioredis';
import type { Delivery, QueueClient, QueueTarget } from './queue-target.js';
import { connectRedis, redisAvailable, startRedisServer } from '../redis-server.js';

export { redisAvailable };

/** How {@link startRedis} starts Redis. */
export interface RedisOptions {
  /** The target's own folder: created if missing, holds the AOF, removed by `stop()`. */
  dir: string;
  /** Receives progress lines and the server's warnings. */
  log?: (line: string) => void;
  /** How long the server may take to answer PING (default 20 s). */
  startTimeoutMs?: number;
}

/** The list holding the messages a consumer took from `queue` and has not acked. */
const processing = (queue: string): string => `${queue}:processing`;

/** Starts one Redis on 127.0.0.1 with an fsync-always AOF in `dir`, and waits until it answers PING. */
export async function startRedis(opts: RedisOptions): Promise<QueueTarget> {
  const label = 'Redis 1 server, AOF fsync always';
  const server = await startRedisServer({ ...opts, label });
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    await server.stop();
  };

  return {
    label,
    async client(): Promise<QueueClient> {
      if (stopped) throw new Error(`${label} is stopped`);
      const redis = await connectRedis(server, label);
      return new RedisQueueClient(redis);
    },
    pids: () => (server.process.pid === undefined ? [] : [server.process.pid]),
    stop,
  };
}

/** One benchmark client of Redis: one connection. */
class RedisQueueClient implements QueueClient {
  constructor(readonly redis: Redis) {}

  async enqueue(queue: string, message: string, id: string): Promise<void> {
    await this.redis.lpush(queue, `${id}\n${message}`);
  }

  async dequeue(queue: string, waitMs: number): Promise<Delivery | null> {
    const element = await this.redis.blmove(queue, processing(queue), 'RIGHT', 'LEFT', waitMs / 1000);
    if (element === null) return null;
    const nl = element.indexOf('\n');
    const redis = this.redis;
    return {
      id: nl < 0 ? '' : element.slice(0, nl),
      message: nl < 0 ? element : element.slice(nl + 1),
      async ack(): Promise<void> {
        const removed = await redis.lrem(processing(queue), 1, element);
        if (removed !== 1) throw new Error(`Redis ${queue}: the ack removed ${removed} elements from ${processing(queue)}, not 1`);
      },
    };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
