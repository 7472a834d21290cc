/**
 * The fsync benchmark of the Raft storage: in a temp dir, 2,000 single-entry appends awaited one
 * by one, then 2,000 entries in batches of 100 (group commit), printing calls/s, entries/s and
 * the p50/p99 latency of one call in microseconds; once with a file that grows with each append,
 * once with the log preallocated 1 MiB at a time (what `dsync node` does).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftStorage, type LogEntry } from '../../cluster/raft/storage.js';

const ENTRIES = 2000;
const BATCH = 100;

/** The p-th percentile (0..100) of ascending `sorted`, nearest rank. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

async function run(name: string, storage: RaftStorage, batch: number): Promise<void> {
  const micros: number[] = [];
  const fsyncs = storage.stats.fsyncs;
  let next = storage.lastIndex + 1;
  const t0 = performance.now();
  for (let done = 0; done < ENTRIES; done += batch) {
    const entries: LogEntry[] = [];
    for (let i = 0; i < batch; i++, next++) entries.push({ index: next, term: 1, data: { op: 'acquire', name: `lock-${next % 16}`, client: 'bench' } });
    const t = performance.now();
    await storage.append(entries);
    micros.push((performance.now() - t) * 1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  micros.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} ${String(micros.length).padStart(5)} calls  ${(micros.length / seconds).toFixed(0).padStart(7)} appends/s  ` +
      `${(ENTRIES / seconds).toFixed(0).padStart(8)} entries/s  p50 ${percentile(micros, 50).toFixed(0).padStart(6)} µs  ` +
      `p99 ${percentile(micros, 99).toFixed(0).padStart(6)} µs  (${storage.stats.fsyncs - fsyncs} fsyncs)`,
  );
}

for (const preallocateBytes of [0, 1 << 20]) {
  const dir = await mkdtemp(join(tmpdir(), 'fsync-bench-'));
  try {
    const { storage } = await RaftStorage.open(dir, { preallocateBytes });
    const mode = preallocateBytes === 0 ? 'file grows with each append' : `preallocated ${preallocateBytes >> 20} MiB at a time (as dsync node)`;
    console.log(`fsync bench in ${dir} (node ${process.version}): ${mode}`);
    await run('1 entry per append', storage, 1);
    await run(`${BATCH} entries per append`, storage, BATCH);
    console.log(`log bytes appended: ${storage.stats.bytesAppended}`);
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
