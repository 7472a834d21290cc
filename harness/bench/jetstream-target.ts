/**
 * NATS JetStream as a queue-benchmark target, for comparison: 1 `nats-server`, or 3 clustered on
 * loopback, with JetStream's file storage in the target's folder; one stream per queue
 * (work-queue retention, file storage, R=1 on one server and R=3 on three, so the stream
 * leaders spread over the servers as dsync's queue owners do) with one durable pull consumer
 * (explicit ack) that all the queue's consumers pull from.
 *
 * Each benchmark client has a connection of its own, to server `i mod servers` (the queue bench
 * spreads dsync's clients the same way). Enqueue is a JetStream publish with the message id as
 * `Nats-Msg-Id` (so a retry is deduplicated), awaited until the stream's PubAck; dequeue is a
 * pull of one message; ack is a double ack (`ackAck`), awaited until the server confirms it.
 *
 * JetStream 2.9 does not fsync each message before its PubAck (it syncs in the background);
 * dsync fsyncs every enqueue before acknowledging it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AckPolicy, connect, RetentionPolicy, StorageType, StringCodec, type Consumer, type JetStreamClient, type NatsConnection } from 'nats';
import { Pool } from 'undici';
import { freePorts } from '../../cluster/local/node-process.js';
import { errorMessage } from '../../cluster/errors.js';
import type { Delivery, QueueClient, QueueTarget } from './queue-target.js';
import { onPath, ServerProcess, waitReady } from './server-process.js';

/** How {@link startJetStream} starts NATS. */
export interface JetStreamOptions {
  servers: 1 | 3;
  /** The target's own folder: created if missing, holds the configs and the JetStream stores, removed by `stop()`. */
  dir: string;
  /** The queues to make a stream for. */
  queues: readonly string[];
  /** Receives progress lines and the servers' error lines. */
  log?: (line: string) => void;
  /** How long the servers and the streams may take to be ready (default 60 s: a clustered JetStream has taken 18 s to elect its meta leader here). */
  startTimeoutMs?: number;
}

/** The durable pull consumer of every stream. */
const CONSUMER = 'bench';
const HOST = '127.0.0.1';
/** How long a pulled message stays leased before JetStream redelivers it. */
const ACK_WAIT_MS = 30_000;
const codec = StringCodec();

/** Whether `nats-server` is on PATH. */
export const natsAvailable = (): Promise<boolean> => onPath('nats-server');

/** The configuration file of server `i`: its client, monitoring and (clustered) route ports, its JetStream store. */
function config(i: number, dir: string, ports: { client: number; http: number; route: number }[]): string {
  const own = ports[i] as { client: number; http: number; route: number };
  const lines = [
    `server_name: s${i}`,
    `listen: "${HOST}:${own.client}"`,
    `http: "${HOST}:${own.http}"`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(join(dir, `s${i}`))}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 8GB`,
    `}`,
  ];
  if (ports.length > 1) {
    lines.push(
      `cluster {`,
      `  name: dsync-bench`,
      `  listen: "${HOST}:${own.route}"`,
      `  routes: [${ports.map((p) => JSON.stringify(`nats-route://${HOST}:${p.route}`)).join(', ')}]`,
      `}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts `servers` NATS servers with JetStream on 127.0.0.1, waits until each reports itself
 * healthy, and makes the streams and their consumers (retrying until the cluster has elected
 * its meta leader). On failure everything started is stopped and the folder removed.
 */
export async function startJetStream(opts: JetStreamOptions): Promise<QueueTarget> {
  if (!(await natsAvailable())) throw new Error('nats-server is not installed (no nats-server on PATH): apt-get install nats-server');
  const { servers: count, dir } = opts;
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const label = `JetStream ${count} server${count === 1 ? '' : 's'}, R=${count}`;
  const flat = await freePorts(3 * count);
  const ports = Array.from({ length: count }, (_, i) => ({ client: flat[3 * i] as number, http: flat[3 * i + 1] as number, route: flat[3 * i + 2] as number }));
  await mkdir(dir, { recursive: true });

  const processes: ServerProcess[] = [];
  const monitors = ports.map((p) => new Pool(`http://${HOST}:${p.http}`, { connections: 1 }));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(monitors.map((m) => m.destroy().catch(() => undefined)));
    await Promise.all(processes.map((p) => p.kill()));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < count; i++) {
      const file = join(dir, `s${i}.conf`);
      await writeFile(file, config(i, dir, ports));
      log(`${label}: starting s${i} (clients ${HOST}:${ports[i]?.client})`);
      // Errors only, less the refused routes to servers not started yet (retried, expected while they start).
      const worthForwarding = (line: string): boolean => /\[(ERR|FTL)\]/.test(line) && !/connect to route/.test(line);
      processes.push(new ServerProcess(`nats s${i}`, 'nats-server', ['-c', file], log, worthForwarding));
    }
    let health = 'no answer yet';
    const healthy = async (): Promise<boolean> => {
      const answers = await Promise.all(
        monitors.map(async (m, i) => {
          try {
            const res = await m.request({ method: 'GET', path: '/healthz', signal: AbortSignal.timeout(2000) });
            const text = await res.body.text();
            if (res.statusCode === 200) return true;
            health = `s${i} /healthz: HTTP ${res.statusCode} ${text.trim().slice(0, 200)}`;
          } catch (e) {
            health = `s${i} /healthz: ${errorMessage(e)}`;
          }
          return false;
        }),
      );
      return answers.every(Boolean);
    };
    await waitReady(label, processes, healthy, () => health, timeoutMs);
    log(`${label}: servers healthy`);
    let why = 'not tried yet';
    const nc = await connect({ servers: `${HOST}:${ports[0]?.client}` });
    try {
      const jsm = await nc.jetstreamManager();
      const made = new Set<string>();
      const makeStreams = async (): Promise<boolean> => {
        for (const queue of opts.queues) {
          if (made.has(queue)) continue;
          try {
            await jsm.streams.add({ name: queue, subjects: [queue], retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: count });
            await jsm.consumers.add(queue, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ACK_WAIT_MS * 1_000_000 });
            made.add(queue);
          } catch (e) {
            why = `stream ${queue}: ${errorMessage(e)}`;
            return false;
          }
        }
        return true;
      };
      await waitReady(label, processes, makeStreams, () => why, timeoutMs);
      const leaders = await Promise.all(opts.queues.map(async (q) => (await jsm.streams.info(q)).cluster?.leader ?? '?'));
      const spread = [...new Set(leaders)].sort().map((s) => `${s} ×${leaders.filter((l) => l === s).length}`);
      log(`${label}: ${opts.queues.length} streams, leaders ${spread.join(', ')}`);
    } finally {
      await nc.close();
    }
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    label,
    async client(i: number): Promise<QueueClient> {
      if (stopped) throw new Error(`${label} is stopped`);
      const nc = await connect({ servers: `${HOST}:${ports[i % count]?.client}` });
      return new JetStreamQueueClient(nc, nc.jetstream());
    },
    pids: () => processes.flatMap((p) => (p.pid === undefined ? [] : [p.pid])),
    stop,
  };
}

/** One benchmark client of JetStream: one connection. */
class JetStreamQueueClient implements QueueClient {
  /** The consumer of each queue, looked up once. */
  readonly #consumers = new Map<string, Promise<Consumer>>();

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
  ) {}

  async enqueue(queue: string, message: string, id: string): Promise<void> {
    await this.js.publish(queue, codec.encode(message), { msgID: id });
  }

  async dequeue(queue: string, waitMs: number): Promise<Delivery | null> {
    let consumer = this.#consumers.get(queue);
    if (consumer === undefined) {
      consumer = this.js.consumers.get(queue, CONSUMER);
      this.#consumers.set(queue, consumer);
      consumer.catch(() => this.#consumers.delete(queue));
    }
    // A pull waits at least 1 s (the client's minimum).
    const m = await (await consumer).next({ expires: Math.max(1000, waitMs) });
    if (m === null) return null;
    const id = m.headers?.get('Nats-Msg-Id') ?? '';
    return {
      id,
      message: m.string(),
      async ack(): Promise<void> {
        if (!(await m.ackAck())) throw new Error(`JetStream ${queue}: the ack of ${id} was not confirmed`);
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
