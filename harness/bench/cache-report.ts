/**
 * What `dsync bench cache` measured, as rows (one per cell, printed as JSON lines with `--json`),
 * as markdown tables, and checked against issue 17's targets — which are reported, never
 * enforced: a missed target does not fail the command.
 */
import { ms, plural, rate, ratio } from './bench-format.js';
import type { LoopResult } from './closed-loop.js';
import { BENCH_LEASE_MS, BENCH_MAX_ENTRIES } from './dsync-cache-target.js';
import { HIT_KEYS, MISS_CLIENTS_PER_NODE, SKEW_KEYS, SKEW_WRITE_SHARE, VALUE_BYTES, WRITERS, type MissKind, type SkewResult, type WriteResult } from './cache-load.js';

/** One measured cell, told apart by `type`. */
export type CacheBenchRow =
  | { readonly type: 'ceiling'; readonly target: string; readonly clients: number; readonly result: LoopResult }
  | { readonly type: 'hits'; readonly nodes: number; readonly target: string; readonly clientsPerNode: number; readonly result: LoopResult }
  | { readonly type: 'misses'; readonly nodes: number; readonly target: string; readonly kind: MissKind; readonly clientsPerNode: number; readonly result: LoopResult }
  | { readonly type: 'writes'; readonly nodes: number; readonly target: string; readonly result: WriteResult }
  | { readonly type: 'skew'; readonly nodes: number; readonly target: string; readonly clientsPerNode: number; readonly result: SkewResult }
  | { readonly type: 'redis'; readonly target: string; readonly op: 'get' | 'set'; readonly clients: number; readonly result: LoopResult };

/** A row as one JSON line: its fields, then its result's (NaN becomes null). */
export function rowJson(row: CacheBenchRow): string {
  const { result, ...fields } = row;
  return JSON.stringify({ ...fields, ...result });
}

/** One of issue 17's targets: met, missed, or not measured (`null`), with the numbers. */
export interface TargetCheck {
  readonly name: string;
  readonly met: boolean | null;
  readonly text: string;
}

/** The client count the latency and ceiling targets are stated at. */
const TARGET_CLIENTS = 16;
/** The client count of the Redis target. */
const REDIS_TARGET_CLIENTS = 64;
const pct = (x: number): string => `${Math.round(x * 100)} %`;
const share = (x: number): string => (Number.isNaN(x) ? '—' : `${(x * 100).toFixed(x >= 0.995 && x < 1 ? 2 : 1)} %`);

/** Checks the rows against the targets; one check per cluster size where a target is per cluster. */
export function cacheTargets(rows: readonly CacheBenchRow[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const hits = rows.filter((r): r is Extract<CacheBenchRow, { type: 'hits' }> => r.type === 'hits');
  const ceiling = rows.find((r): r is Extract<CacheBenchRow, { type: 'ceiling' }> => r.type === 'ceiling' && r.clients === TARGET_CLIENTS);
  const local = hits.find((r) => r.nodes === 1 && r.clientsPerNode === TARGET_CLIENTS);
  const name1 = `local hits ≥ 50 % of the trivial node:http server's requests/s (${TARGET_CLIENTS} clients)`;
  if (local === undefined || ceiling === undefined) out.push({ name: name1, met: null, text: `needs --nodes 1 and ${TARGET_CLIENTS} in --clients` });
  else {
    const x = ceiling.result.opsPerSec > 0 ? local.result.opsPerSec / ceiling.result.opsPerSec : NaN;
    out.push({ name: name1, met: x >= 0.5, text: `1 node: ${rate(local.result.opsPerSec)} hits/s = ${pct(x)} of ${rate(ceiling.result.opsPerSec)} requests/s` });
  }
  const name2 = `hit p99 < 2 ms at ${TARGET_CLIENTS} clients per node`;
  const at16 = hits.filter((r) => r.clientsPerNode === TARGET_CLIENTS);
  if (at16.length === 0) out.push({ name: name2, met: null, text: `needs ${TARGET_CLIENTS} in --clients` });
  for (const r of at16) out.push({ name: name2, met: r.result.p99Ms < 2, text: `${plural(r.nodes, 'node')}: p99 ${ms(r.result.p99Ms)}` });
  const name3 = 'a write to a line shared by 2 other nodes < 3× an unshared write (p50)';
  const writes = rows.filter((r): r is Extract<CacheBenchRow, { type: 'writes' }> => r.type === 'writes');
  const sizes = [...new Set(writes.filter((r) => r.result.sharers === 2).map((r) => r.nodes))];
  if (sizes.length === 0) out.push({ name: name3, met: null, text: 'needs a cluster of 3 or more nodes in --nodes' });
  for (const n of sizes) {
    const w2 = writes.find((r) => r.nodes === n && r.result.sharers === 2);
    const w0 = writes.find((r) => r.nodes === n && r.result.sharers === 0);
    if (w2 === undefined || w0 === undefined) continue;
    const x = w2.result.p50Ms / w0.result.p50Ms;
    out.push({ name: name3, met: x < 3, text: `${plural(n, 'node')}: p50 ${ms(w2.result.p50Ms)} vs ${ms(w0.result.p50Ms)} = ×${ratio(x)}` });
  }
  const name4 = `3-node cache hits (all nodes, ${REDIS_TARGET_CLIENTS} clients per node) ≥ Redis GETs over ioredis (${REDIS_TARGET_CLIENTS} clients)`;
  const three = hits.find((r) => r.nodes === 3 && r.clientsPerNode === REDIS_TARGET_CLIENTS);
  const get64 = rows.find((r): r is Extract<CacheBenchRow, { type: 'redis' }> => r.type === 'redis' && r.op === 'get' && r.clients === REDIS_TARGET_CLIENTS);
  if (three === undefined || get64 === undefined) out.push({ name: name4, met: null, text: `needs 3 in --nodes, ${REDIS_TARGET_CLIENTS} in --clients and --compare redis` });
  else {
    const x = get64.result.opsPerSec > 0 ? three.result.opsPerSec / get64.result.opsPerSec : NaN;
    out.push({ name: name4, met: x >= 1, text: `${rate(three.result.opsPerSec)} hits/s vs ${rate(get64.result.opsPerSec)} GETs/s = ×${ratio(x)}` });
  }
  return out;
}

/** A dsync cell beside the Redis cell it is compared with. */
export interface CacheRatio {
  readonly dsync: string;
  readonly redis: string;
  /** dsync's operations per second over Redis's (undefined for the writes: their cells are rounds, not a closed loop). */
  readonly opsPerSecRatio?: number;
  readonly p50Ms: number;
  readonly redisP50Ms: number;
  readonly p99Ms: number;
  readonly redisP99Ms: number;
  /** CPU seconds of the server processes per 1,000 ops, of each (absent when not known). */
  readonly cpuSPer1000?: number;
  readonly redisCpuSPer1000?: number;
}

/** dsync's hits against Redis GETs at the same client count per node, and unshared writes against SETs. */
export function cacheRatios(rows: readonly CacheBenchRow[]): CacheRatio[] {
  const out: CacheRatio[] = [];
  const redis = rows.filter((r): r is Extract<CacheBenchRow, { type: 'redis' }> => r.type === 'redis');
  for (const r of rows) {
    if (r.type === 'hits') {
      const get = redis.find((g) => g.op === 'get' && g.clients === r.clientsPerNode);
      if (get === undefined) continue;
      out.push({
        dsync: `${r.target} hits, ${r.clientsPerNode} clients per node (${r.clientsPerNode * r.nodes} in all)`,
        redis: `GET, ${plural(get.clients, 'client')}`,
        opsPerSecRatio: get.result.opsPerSec > 0 ? r.result.opsPerSec / get.result.opsPerSec : NaN,
        ...latencies(r.result, get.result),
      });
    } else if (r.type === 'writes' && r.result.sharers === 0) {
      const set = redis.find((s) => s.op === 'set');
      if (set === undefined) continue;
      out.push({ dsync: `${r.target} writes, no sharers, ${plural(r.result.writers, 'writer')}`, redis: `SET, ${plural(set.clients, 'client')}`, ...latencies(r.result, set.result) });
    }
  }
  return out;
}

type Measured = { p50Ms: number; p99Ms: number; cpuSPer1000?: number };
const latencies = (d: Measured, r: Measured): Pick<CacheRatio, 'p50Ms' | 'redisP50Ms' | 'p99Ms' | 'redisP99Ms' | 'cpuSPer1000' | 'redisCpuSPer1000'> => ({
  p50Ms: d.p50Ms,
  redisP50Ms: r.p50Ms,
  p99Ms: d.p99Ms,
  redisP99Ms: r.p99Ms,
  ...(d.cpuSPer1000 === undefined ? {} : { cpuSPer1000: d.cpuSPer1000 }),
  ...(r.cpuSPer1000 === undefined ? {} : { redisCpuSPer1000: r.cpuSPer1000 }),
});

/** `4,100 (3,900–4,300)`: the mean per node, and the slowest and fastest node when there are several. */
function perNode(r: LoopResult): string {
  const xs = r.perNodeOpsPerSec;
  const mean = rate(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  return xs.length <= 1 ? mean : `${mean} (${rate(Math.min(...xs))}–${rate(Math.max(...xs))})`;
}

const load = (r: LoopResult): string => `${Math.round(r.loadCpuPct)} %`;
/** CPU seconds per 1,000 ops as µs of server CPU per op (the same number × 1,000, readable at these rates), `—` when not measured. */
const cpuMicros = (x: number | undefined): string => (x === undefined ? '—' : (x * 1000).toFixed(1));

/** The markdown tables and the targets, in the order the cells ran. */
export function formatCacheBench(rows: readonly CacheBenchRow[], opts: { durationS: number; warmupS: number }): string[] {
  const lines: string[] = [];
  const table = (title: string, head: readonly string[], body: readonly string[][]): void => {
    if (body.length === 0) return;
    if (lines.length > 0) lines.push('');
    lines.push(title, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((cells) => `| ${cells.join(' | ')} |`));
  };
  const of = <T extends CacheBenchRow['type']>(type: T): Extract<CacheBenchRow, { type: T }>[] => rows.filter((r): r is Extract<CacheBenchRow, { type: T }> => r.type === type);
  const cell = `${opts.durationS} s per cell after ${opts.warmupS} s warmup`;

  lines.push(
    `dsync nodes run write-through with the embedded store, \`--cache-lease-ms ${BENCH_LEASE_MS}\` (leases of ${BENCH_LEASE_MS / 60_000} minutes: ` +
      `with the default 2 s a hit cell would be capped by lease renewals) and \`--cache-max-entries ${BENCH_MAX_ENTRIES}\`; values are ${VALUE_BYTES} characters. ` +
      `"load CPU" is the benchmark process's own CPU in % of one core (it drives every client: near 100 % it is the bottleneck).`,
  );
  table(
    `**HTTP ceiling**: a trivial node:http server answering every GET with a hit's body, read by the same client (${cell})`,
    ['server', 'clients', 'requests/s', 'p50', 'p99', 'server CPU µs / op', 'load CPU'],
    of('ceiling').map((r) => [r.target, String(r.clients), rate(r.result.opsPerSec), ms(r.result.p50Ms), ms(r.result.p99Ms), cpuMicros(r.result.cpuSPer1000), load(r.result)]),
  );
  table(
    `**Hits**: closed-loop reads of ${HIT_KEYS} keys every node holds, each client bound to one node; hits/s per node (mean, slowest–fastest), p50/p99, the share of replies with \`hit: true\`, CPU µs of all the nodes per hit (${cell})`,
    ['cluster', 'clients per node', 'hits/s per node', 'hits/s all nodes', 'p50', 'p99', 'hit share', 'server CPU µs / op', 'load CPU', 'errors'],
    of('hits').map((r) => [r.target, String(r.clientsPerNode), perNode(r.result), rate(r.result.opsPerSec), ms(r.result.p50Ms), ms(r.result.p99Ms), share(r.result.hitShare), cpuMicros(r.result.cpuSPer1000), load(r.result), String(r.result.errors)]),
  );
  table(
    `**Misses**: reads of keys the reading node never read, ${MISS_CLIENTS_PER_NODE} clients per node; cold = written earlier through the next node (1 node: itself) and since evicted, absent = never written (404); at most ${opts.durationS} s`,
    ['cluster', 'kind', 'misses', 'misses/s', 'p50', 'p99', 'hit share', 'errors'],
    of('misses').map((r) => [r.target, r.kind, rate(r.result.ops), rate(r.result.opsPerSec), ms(r.result.p50Ms), ms(r.result.p99Ms), share(r.result.hitShare), String(r.result.errors)]),
  );
  table(
    `**Writes against sharers**: ${WRITERS} writers at once (writer k on node k mod n), each write timed alone after the next *s* nodes read the key (so it is Shared there); p50 over the unshared write's p50 (${cell})`,
    ['cluster', 'sharers', 'writes', 'writes/s', 'p50', 'p99', 'p50 / unshared p50', 'sharer hits', 'errors'],
    of('writes').map((r) => {
      const base = of('writes').find((w) => w.nodes === r.nodes && w.result.sharers === 0);
      const x = base === undefined ? NaN : r.result.p50Ms / base.result.p50Ms;
      return [r.target, String(r.result.sharers), rate(r.result.writes), rate(r.result.writesPerSec), ms(r.result.p50Ms), ms(r.result.p99Ms), `×${ratio(x)}`, String(r.result.sharerHits), String(r.result.errors)];
    }),
  );
  table(
    `**Hit rate against key skew**: ${SKEW_KEYS.toLocaleString('en-US')} keys, an LRU of ${BENCH_MAX_ENTRIES} lines per node, ${100 - SKEW_WRITE_SHARE * 100} % reads / ${SKEW_WRITE_SHARE * 100} % writes of zipfian keys (exponent 0: uniform); the best static hit rate is the share of the ${BENCH_MAX_ENTRIES} most popular keys (${cell})`,
    ['cluster', 'zipf exponent', 'clients per node', 'ops/s', 'hit rate', 'best static hit rate', 'read p50', 'read p99', 'errors'],
    of('skew').map((r) => [r.target, String(r.result.exponent), String(r.clientsPerNode), rate(r.result.opsPerSec), share(r.result.hitShare), share(r.result.bestHitRate), ms(r.result.p50Ms), ms(r.result.p99Ms), String(r.result.errors)]),
  );
  table(
    `**Redis**: the same closed-loop reads (GET of the same ${HIT_KEYS} keys) and writes (SET) over ioredis, one connection per client (${cell})`,
    ['server', 'op', 'clients', 'ops/s', 'p50', 'p99', 'server CPU µs / op', 'load CPU', 'errors'],
    of('redis').map((r) => [r.target, r.op.toUpperCase(), String(r.clients), rate(r.result.opsPerSec), ms(r.result.p50Ms), ms(r.result.p99Ms), cpuMicros(r.result.cpuSPer1000), load(r.result), String(r.result.errors)]),
  );
  table(
    '**dsync / Redis**: operations per second (above 1: dsync is faster), p50, p99 and server CPU µs per op dsync vs Redis (the writes are rounds, not a closed loop: no ops/s ratio, no CPU per write)',
    ['dsync', 'Redis', 'ops/s', 'p50', 'p99', 'server CPU µs / op'],
    cacheRatios(rows).map((r) => [
      r.dsync,
      r.redis,
      r.opsPerSecRatio === undefined ? '—' : `×${ratio(r.opsPerSecRatio)}`,
      `${ms(r.p50Ms)} vs ${ms(r.redisP50Ms)}`,
      `${ms(r.p99Ms)} vs ${ms(r.redisP99Ms)}`,
      r.cpuSPer1000 === undefined ? '—' : `${cpuMicros(r.cpuSPer1000)} vs ${cpuMicros(r.redisCpuSPer1000)}`,
    ]),
  );
  lines.push('', '**Targets** (issue 17; reported, not enforced):', '');
  for (const t of cacheTargets(rows)) lines.push(`- ${t.met === null ? 'not measured' : t.met ? '**met**' : '**not met**'} — ${t.name}: ${t.text}`);
  return lines;
}
