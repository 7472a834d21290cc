/**
 * Synthetic register histories for benchmarks and tests: concurrent processes reading and writing
 * independent keys of a simulated linearizable store, with optional timeouts (`info` ops).
 */
import type { Op } from '../../checkers/index.js';
import { prng } from '../random.js';

/** Options of {@link syntheticRegisterHistory}. */
export interface SyntheticHistoryOptions {
  /** Completed operations to generate. */
  readonly ops: number;
  /** Independent keys. @default 10 */
  readonly keys?: number;
  /** Concurrent client processes. @default 20 */
  readonly processes?: number;
  /** Fraction of ops that time out (`info`; half of the timed-out writes take effect). @default 0.002 */
  readonly infoRate?: number;
  /** Fraction of ops that are reads (the rest write). @default 0.5 */
  readonly readRate?: number;
  /** PRNG seed; the same seed gives the same history. @default 1 */
  readonly seed?: number;
  /**
   * Make the history non-linearizable: the read at this fraction of the history returns a value
   * no one wrote. @default undefined (linearizable)
   */
  readonly corruptAt?: number;
}

interface PlannedOp {
  process: number;
  f: 'read' | 'write';
  key: number;
  value: number | null;
  start: number;
  end: number;
  /** The linearization point, or NaN if the op never took effect. */
  at: number;
  info: boolean;
}

/**
 * A history of `ops` register operations on independent keys, as Jepsen independent tuples
 * (`value: [key v]`), linearizable unless `corruptAt` is set. Times are nanoseconds.
 */
export function syntheticRegisterHistory(options: SyntheticHistoryOptions): Op[] {
  const { ops: total, keys = 10, processes = 20, infoRate = 0.002, readRate = 0.5, seed = 1 } = options;
  const rand = prng(seed);
  const planned: PlannedOp[] = [];
  const slots = Array.from({ length: processes }, (_, i) => ({ process: i, free: rand() * 1000 }));
  let nextProcess = processes;
  let writeValue = 0;
  // Each slot issues its next op when its previous one completes; always advance the earliest.
  while (planned.length < total) {
    let s = slots[0] as (typeof slots)[number];
    for (const x of slots) if (x.free < s.free) s = x;
    const start = s.free;
    const duration = 50 + rand() * 900 + (rand() < 0.01 ? rand() * 20_000 : 0);
    const end = start + duration;
    const info = rand() < infoRate;
    const f = rand() < readRate ? 'read' : 'write';
    const takesEffect = !info || (f === 'write' && rand() < 0.5);
    planned.push({
      process: s.process,
      f,
      key: Math.floor(rand() * keys),
      value: f === 'write' ? ++writeValue : null,
      start,
      end,
      at: takesEffect ? start + rand() * duration : NaN,
      info,
    });
    s.free = end + rand() * 200;
    if (info) s.process = nextProcess++;
  }
  // Apply the ops at their linearization points to find what each read returned.
  const byPoint = planned.filter((p) => !Number.isNaN(p.at)).sort((a, b) => a.at - b.at);
  const registers = new Map<number, number | null>();
  for (const p of byPoint) {
    if (p.f === 'write') registers.set(p.key, p.value);
    else p.value = registers.get(p.key) ?? null;
  }
  if (options.corruptAt !== undefined) {
    const reads = planned.filter((p) => p.f === 'read' && !p.info);
    const victim = reads[Math.min(reads.length - 1, Math.floor(options.corruptAt * reads.length))];
    if (victim) victim.value = -1;
  }
  const events: { time: number; complete: boolean; p: PlannedOp }[] = [];
  for (const p of planned) {
    events.push({ time: p.start, complete: false, p });
    if (!p.info || rand() < 0.5) events.push({ time: p.end, complete: true, p });
  }
  events.sort((a, b) => a.time - b.time);
  return events.map((e, index) => {
    const { p } = e;
    const type = !e.complete ? 'invoke' : p.info ? 'info' : 'ok';
    const value = p.f === 'write' || (e.complete && type === 'ok') ? [p.key, p.value] : [p.key, null];
    return { index, type, f: p.f, value, process: p.process, time: Math.round(e.time * 1000) };
  });
}

/**
 * A history of `keys` independent keys of exactly equal difficulty: one single-key history of
 * {@link syntheticRegisterHistory} (from `options`, whose `keys` is ignored), copied onto each key
 * with its own processes and interleaved in time. For benchmarks of parallel checking.
 */
export function equalKeysHistory(keys: number, options: SyntheticHistoryOptions): Op[] {
  const base = syntheticRegisterHistory({ ...options, keys: 1 });
  const processes = 1 + base.reduce((a, e) => Math.max(a, typeof e.process === 'number' ? e.process : 0), 0);
  const copies: { e: Op; k: number; i: number }[] = [];
  for (let k = 0; k < keys; k++) {
    base.forEach((e, i) => {
      const [, v] = e.value as [unknown, unknown];
      copies.push({ e: { ...e, value: [k, v], process: (e.process as number) + k * processes }, k, i });
    });
  }
  copies.sort((a, b) => (a.e.time ?? 0) - (b.e.time ?? 0) || a.i - b.i || a.k - b.k);
  return copies.map((c, index) => ({ ...c.e, index }));
}
