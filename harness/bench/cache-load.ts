/**
 * The loads of the cache benchmark, each on a running {@link CacheTarget} and each bounded in
 * time and count: hits (closed-loop reads of a few keys every node holds), misses (reads of keys
 * the reading node has never read), writes of lines shared by 0–4 other nodes, and the hit rate
 * of a small LRU under zipfian key skew. Redis and the trivial HTTP server get the same reads
 * ({@link runHits}) and writes ({@link runSets}).
 */
import { keyShare, sampleKey, type KeyDistribution } from '../generator/keys.js';
import { seedRand, nextFloat, type Rand } from '../generator/rand.js';
import { prng } from '../random.js';
import { runClosedLoop, MAX_ERRORS, type LoopResult } from './closed-loop.js';
import { histogram, latencies, micros } from './bench-histogram.js';
import { closeAll, createClients, upTo } from './bench-clients.js';
import type { CacheClient, CacheTarget } from './cache-target.js';
import { errorMessage } from '../../cluster/errors.js';

/** Characters of every value written. */
export const VALUE_BYTES = 100;
/** The keys the hit cells read. */
export const HIT_KEYS = 64;
/** Closed-loop readers per node of the miss cells. */
export const MISS_CLIENTS_PER_NODE = 4;
/** Keys each node reads (at most) in a miss cell. */
export const MISS_KEYS_PER_NODE = 1000;
/** Concurrent writers of the write cells (writer `k` on node `k mod n`). */
export const WRITERS = 4;
/** Other nodes holding a line Shared when it is written. */
export const SHARER_COUNTS = [0, 1, 2, 4] as const;
/** The keys of the skew cells. */
export const SKEW_KEYS = 1000;
/** Zipf exponents of the skew cells (0: uniform). */
export const SKEW_EXPONENTS = [0, 0.8, 1, 1.2] as const;
/** Closed-loop clients per node of the skew cells. */
export const SKEW_CLIENTS_PER_NODE = 4;
/** Share of writes among the skew cells' operations. */
export const SKEW_WRITE_SHARE = 0.05;
/** How many writes and reads at once while keys are prepared (unmeasured). */
const PREPARE_CONCURRENCY = 16;

/** A value of {@link VALUE_BYTES} characters starting with `tag`. */
export const valueFor = (tag: string): string => `${tag}:`.padEnd(VALUE_BYTES, '.');

/** Worker `i` of `perNode` per node on `nodes` nodes talks to node `i mod nodes`. */
export const spread = (nodes: number, perNode: number): number[] => Array.from({ length: nodes * perNode }, (_, i) => i % nodes);

/** Runs `fn(item, client)` for every item with at most {@link PREPARE_CONCURRENCY} at once, each on a client of `nodeOf(item)`. */
async function prepare<T>(target: CacheTarget, items: readonly T[], nodeOf: (item: T) => number, fn: (item: T, client: CacheClient) => Promise<void>): Promise<void> {
  const clients = await createClients(target, upTo(target.nodes));
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item, clients[nodeOf(item)] as CacheClient);
      }
    };
    await Promise.all(Array.from({ length: PREPARE_CONCURRENCY }, lane));
  } finally {
    await closeAll(clients);
  }
}

// ————— hits (and the same reads of Redis and the trivial server) —————

const hitKey = (i: number): string => `h${i}`;

/** Writes the hit keys through node 0, then reads each at every node: every node then holds every key (Shared, or Modified on a single node). */
export async function prepareHits(target: CacheTarget, keys = HIT_KEYS): Promise<void> {
  const all = Array.from({ length: keys }, (_, i) => i);
  await prepare(target, all, () => 0, (i, c) => c.put(hitKey(i), valueFor(hitKey(i))));
  const reads = all.flatMap((i) => Array.from({ length: target.nodes }, (_, node) => ({ i, node })));
  await prepare(target, reads, (r) => r.node, async (r, c) => {
    if (!(await c.get(hitKey(r.i))).found) throw new Error(`${target.label}: ${hitKey(r.i)} has no value at node ${r.node} right after it was written`);
  });
}

/** `clientsPerNode` closed-loop readers per node, each reading uniformly random hit keys from its node. */
export function runHits(target: CacheTarget, o: { clientsPerNode: number; durationMs: number; warmupMs?: number; keys?: number; seed?: number }): Promise<LoopResult> {
  const keys = o.keys ?? HIT_KEYS;
  const nodeOf = spread(target.nodes, o.clientsPerNode);
  const rands = nodeOf.map((_, i) => prng((o.seed ?? 1) * 7919 + i));
  return runClosedLoop(target, { nodeOf, durationMs: o.durationMs, warmupMs: o.warmupMs ?? 0 }, async (client, i) => {
    const key = hitKey(Math.floor((rands[i] as () => number)() * keys));
    const r = await client.get(key);
    if (!r.found) throw new Error(`${key}: no value`);
    return r; // its `hit`, when the target tells, is the outcome
  });
}

/** `clients` closed-loop writers, each writing random hit keys (through node 0: Redis and the trivial server have one). */
export function runSets(target: CacheTarget, o: { clients: number; durationMs: number; warmupMs?: number; keys?: number }): Promise<LoopResult> {
  const keys = o.keys ?? HIT_KEYS;
  const rand = prng(17);
  let seq = 0;
  return runClosedLoop(target, { nodeOf: spread(target.nodes, o.clients), durationMs: o.durationMs, warmupMs: o.warmupMs ?? 0 }, async (client) => {
    const key = hitKey(Math.floor(rand() * keys));
    await client.put(key, valueFor(`${key}-${seq++}`));
    return {};
  });
}

// ————— misses —————

/**
 * `cold`: keys written earlier through the next node (on one node: the node itself), since
 * evicted from its LRU — the value is in main memory only, though the home still lists the
 * writer (an eviction of a clean line is silent). `absent`: keys never written (404).
 */
export type MissKind = 'cold' | 'absent';
export const MISS_KINDS: readonly MissKind[] = ['cold', 'absent'];

const missKey = (kind: MissKind, node: number, i: number): string => `${kind === 'cold' ? 'c' : 'a'}${node}-${i}`;

/**
 * Writes the cold keys: `keysPerNode + 2 × lruEntries` for each reading node, through the next
 * node, in index order, so the first `keysPerNode` are long evicted from the writer's LRU of
 * `lruEntries` lines.
 */
export async function prepareMisses(target: CacheTarget, o: { keysPerNode: number; lruEntries: number }): Promise<void> {
  const n = target.nodes;
  const items = Array.from({ length: (o.keysPerNode + 2 * o.lruEntries) * n }, (_, k) => ({ node: k % n, i: Math.floor(k / n) }));
  await prepare(target, items, (it) => (it.node + 1) % n, (it, c) => c.put(missKey('cold', it.node, it.i), valueFor('miss')));
}

/** {@link MISS_CLIENTS_PER_NODE} readers per node, each reading the next key of `kind` its node has never read, until the keys or the time run out. */
export function runMisses(target: CacheTarget, kind: MissKind, o: { keysPerNode: number; durationMs: number; clientsPerNode?: number }): Promise<LoopResult> {
  const next = new Array<number>(target.nodes).fill(0);
  const nodeOf = spread(target.nodes, o.clientsPerNode ?? MISS_CLIENTS_PER_NODE);
  return runClosedLoop(target, { nodeOf, durationMs: o.durationMs }, async (client, w) => {
    const node = nodeOf[w] as number;
    const i = next[node] ?? 0;
    if (i >= o.keysPerNode) return 'done';
    next[node] = i + 1;
    const key = missKey(kind, node, i);
    const r = await client.get(key);
    if (r.found !== (kind === 'cold')) throw new Error(`${key}: ${r.found ? 'a value, though it was never written' : 'no value, though it was written'}`);
    return r; // its `hit`, when the target tells, is the outcome
  });
}

// ————— writes of shared lines —————

/** What the writes with `sharers` other holders measured. Latencies in ms of the write alone. */
export interface WriteResult {
  sharers: number;
  writers: number;
  /** Writes completed inside the measured window. */
  writes: number;
  writesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Sharers' reads that were hits: each read follows a write of the key, which must have invalidated the sharer's copy — so 0. */
  sharerHits: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

/** Keys each writer cycles through. */
const KEYS_PER_WRITER = 8;

/**
 * Rounds of: every writer's `sharers` other nodes (the next ones after the writer's) read its key,
 * so they hold it Shared; then all writers write their keys at once, each write timed alone. The
 * reads are never timed and never overlap the writes. Rounds go on for `warmupMs` (unmeasured)
 * plus `durationMs`, or until `maxWrites` measured writes.
 */
export async function runWrites(target: CacheTarget, o: { sharers: number; writers?: number; durationMs: number; warmupMs?: number; maxWrites?: number }): Promise<WriteResult> {
  const n = target.nodes;
  const writers = o.writers ?? WRITERS;
  const maxWrites = o.maxWrites ?? 1_000_000;
  if (!Number.isInteger(o.sharers) || o.sharers < 0 || o.sharers > n - 1) throw new RangeError(`sharers must be 0..${n - 1} on ${n} nodes, got ${o.sharers}`);
  const writerNode = (k: number): number => k % n;
  const sharers = Array.from({ length: writers }, (_, k) => Array.from({ length: o.sharers }, (_, j) => (writerNode(k) + 1 + j) % n));
  const clients = await createClients(target, upTo(n));
  const hist = histogram();
  try {
    let writes = 0;
    let sharerHits = 0;
    let errors = 0;
    let firstError: string | undefined;
    const fail = (e: unknown): void => {
      errors++;
      firstError ??= errorMessage(e);
    };
    const start = performance.now() + (o.warmupMs ?? 0);
    const end = start + o.durationMs;
    let stopAt: number | undefined;
    for (let round = 0; performance.now() < end && writes < maxWrites && errors <= MAX_ERRORS; round++) {
      const key = (k: number): string => `w${o.sharers}-${k}-${round % KEYS_PER_WRITER}`;
      const ready = await Promise.all(
        Array.from({ length: writers }, async (_, k) => {
          try {
            for (const r of await Promise.all((sharers[k] as number[]).map((s) => (clients[s] as CacheClient).get(key(k))))) if (r.hit === true) sharerHits++;
            return true;
          } catch (e) {
            fail(e);
            return false;
          }
        }),
      );
      await Promise.all(
        Array.from({ length: writers }, async (_, k) => {
          if (!ready[k]) return;
          const written = key(k);
          const value = valueFor(`${written}-${round}`);
          const t0 = performance.now();
          try {
            await (clients[writerNode(k)] as CacheClient).put(written, value);
          } catch (e) {
            fail(e);
            return;
          }
          const t1 = performance.now();
          if (t1 < start || t1 > end || writes >= maxWrites) return;
          hist.recordValue(micros(t1 - t0));
          if (++writes >= maxWrites) stopAt = Math.max(start, t1);
        }),
      );
    }
    const elapsedMs = stopAt === undefined ? o.durationMs : stopAt - start;
    return {
      sharers: o.sharers,
      writers,
      writes,
      writesPerSec: elapsedMs > 0 ? (writes * 1000) / elapsedMs : 0,
      ...latencies(hist),
      sharerHits,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      elapsedMs,
    };
  } finally {
    hist.destroy();
    await closeAll(clients).catch(() => undefined);
  }
}

// ————— hit rate against key skew —————

const skewKey = (i: number): string => `z${i}`;

/** The key distribution of a skew cell: uniform for exponent 0, else zipfian (key 0 the most popular). */
export const skewDistribution = (exponent: number, count = SKEW_KEYS): KeyDistribution => (exponent === 0 ? { kind: 'uniform', count } : { kind: 'zipfian', count, exponent });

/** The hit rate of the best static cache of `entries` lines under `d` (the share of its `entries` most popular keys): what an LRU approaches. */
export function bestHitRate(d: KeyDistribution, entries: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(entries, d.count); i++) sum += keyShare(d, i);
  return sum;
}

/** Writes every skew key once, round-robin over the nodes. */
export async function prepareSkew(target: CacheTarget, keys = SKEW_KEYS): Promise<void> {
  const all = Array.from({ length: keys }, (_, i) => i);
  await prepare(target, all, (i) => i % target.nodes, (i, c) => c.put(skewKey(i), valueFor(skewKey(i))));
}

/** What a skew cell measured: the loop's result (reads timed, writes counted as operations) and the distribution. */
export interface SkewResult extends LoopResult {
  exponent: number;
  keys: number;
  /** {@link bestHitRate} for the nodes' LRU size. */
  bestHitRate: number;
}

/**
 * `clientsPerNode` closed-loop clients per node over the skew keys drawn from
 * {@link skewDistribution} (seeded per client): {@link SKEW_WRITE_SHARE} writes, the rest reads
 * whose `hit` makes the hit rate. Only the reads are timed.
 */
export async function runSkew(target: CacheTarget, o: { exponent: number; lruEntries: number; durationMs: number; warmupMs?: number; clientsPerNode?: number; keys?: number; seed?: number }): Promise<SkewResult> {
  const d = skewDistribution(o.exponent, o.keys ?? SKEW_KEYS);
  const nodeOf = spread(target.nodes, o.clientsPerNode ?? SKEW_CLIENTS_PER_NODE);
  const rands: Rand[] = nodeOf.map((_, i) => seedRand((o.seed ?? 1) * 104729 + i));
  let seq = 0;
  const draw = (i: number): number => {
    const [u, r] = nextFloat(rands[i] as Rand);
    rands[i] = r;
    return u;
  };
  const result = await runClosedLoop(target, { nodeOf, durationMs: o.durationMs, warmupMs: o.warmupMs ?? 0 }, async (client, i) => {
    const [k, r] = sampleKey(d, rands[i] as Rand);
    rands[i] = r;
    const key = skewKey(k);
    if (draw(i) < SKEW_WRITE_SHARE) {
      await client.put(key, valueFor(`${key}-${seq++}`));
      return { timed: false };
    }
    const got = await client.get(key);
    if (!got.found) throw new Error(`${key}: no value`);
    return got;
  });
  return { ...result, exponent: o.exponent, keys: d.count, bestHitRate: bestHitRate(d, o.lruEntries) };
}
