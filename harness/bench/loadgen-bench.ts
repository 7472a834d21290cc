/**
 * `dsync bench loadgen`: the scale check of `dsync bench compare`'s load generator — the same
 * open loop and the same HTTP client (an undici Pool as each node gets) against a trivial server
 * that does almost nothing per request, at a given offered rate. It prints what was offered,
 * sent and answered, how late ops were sent after their scheduled time, and the generator's own
 * CPU; it passes when every op was sent and answered ok and sent at most `--max-late-ms` late at
 * the p99 — then a comparison at that rate is not bounded by the generator.
 */
import { type Command } from 'commander';
import { Pool } from 'undici';
import type { Output } from '../check-command.js';
import { positiveNumber, seconds } from './bench-format.js';
import { COMPARE_POOL_OPTIONS } from './compare-cluster.js';
import { probeCapacity, runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { startTrivialServer } from './trivial-server.js';
import { cpuSeconds } from './process-cpu.js';
import { errorMessage } from '../../cluster/errors.js';

/** The options of `dsync bench loadgen`. */
export interface LoadgenOptions {
  /** Offered ops/s. */
  rate: number;
  durationS: number;
  /** The p99 of how late ops were sent, at most. */
  maxLateMs: number;
  json?: boolean;
}

/** Unmeasured closed-loop time before the schedule. */
const WARMUP_MS = 1000;

export const LOADGEN_DEFAULTS: LoadgenOptions = { rate: 20_000, durationS: 5, maxLateMs: 5 };

/** Exit codes: the generator kept up; it did not; it could not run (bad usage, no server). */
export const LOADGEN_EXIT = { ok: 0, behind: 1, usage: 3 } as const;

/** Whether `r` kept up with its schedule: every op sent and ok, sent late by at most `maxLateMs` at the p99. */
export function keptUp(r: OpenLoopResult, maxLateMs: number): boolean {
  return r.sent === r.scheduled && r.ok === r.scheduled && r.generator.sendGapP99Ms !== null && r.generator.sendGapP99Ms <= maxLateMs;
}

/** Runs the scale check; resolves to the exit code ({@link LOADGEN_EXIT}). */
export async function loadgenCommand(o: LoadgenOptions, io: Output): Promise<number> {
  if (!(o.rate > 0) || !Number.isFinite(o.rate) || o.rate > 1_000_000) {
    io.err(`dsync bench loadgen: --rate: ops/s in (0, 1000000] expected, got ${o.rate}`);
    return LOADGEN_EXIT.usage;
  }
  let server;
  try {
    server = await startTrivialServer();
  } catch (e) {
    io.err(`dsync bench loadgen: cannot start the trivial server: ${errorMessage(e)}`);
    return LOADGEN_EXIT.usage;
  }
  const pool = new Pool(`http://${server.address}`, COMPARE_POOL_OPTIONS);
  try {
    const op = async (): Promise<void> => {
      const res = await pool.request({ method: 'GET', path: '/' });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    };
    io.err(`dsync bench loadgen: ${o.rate} ops/s open loop for ${o.durationS} s against a trivial server at ${server.address}`);
    // Connections made and code compiled first, as the comparison's warm-up does for its clusters.
    await probeCapacity(op, { concurrency: 64, durationMs: WARMUP_MS });
    const pids = server.pid === undefined ? [] : [server.pid];
    const serverCpu0 = await cpuSeconds(pids);
    const r = await runOpenLoop(op, { ratePerSec: o.rate, durationMs: o.durationS * 1000, seed: 1, deadlineMs: 10_000 });
    const serverCpu1 = await cpuSeconds(pids);
    const ok = keptUp(r, o.maxLateMs);
    const serverShare = serverCpu0 === undefined || serverCpu1 === undefined ? undefined : (serverCpu1 - serverCpu0) / r.durationS;
    if (o.json) {
      io.out(JSON.stringify({ type: 'loadgen', keptUp: ok, offeredPerSec: r.offeredPerSec, scheduled: r.scheduled, sent: r.sent, ok: r.ok, okPerSec: r.okPerSec, latency: r.latency, generator: r.generator, serverCpuShare: serverShare }));
    } else {
      const g = r.generator;
      const f = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
      io.out(`offered ${o.rate.toLocaleString('en-US')} ops/s for ${o.durationS} s: ${r.scheduled.toLocaleString('en-US')} scheduled, ${r.sent.toLocaleString('en-US')} sent, ${r.ok.toLocaleString('en-US')} ok (${Math.round(r.okPerSec).toLocaleString('en-US')} ok/s)`);
      io.out(`sent late after the scheduled time: p50 ${f(g.sendGapP50Ms)} ms, p99 ${f(g.sendGapP99Ms)} ms, max ${f(g.sendGapMaxMs)} ms`);
      io.out(`latency from the scheduled time: p50 ${f(r.latency.p50Ms)} ms, p99 ${f(r.latency.p99Ms)} ms`);
      io.out(`generator CPU ${Math.round(g.cpuShare * 100)} % of a core${serverShare === undefined ? '' : `, trivial server ${Math.round(serverShare * 100)} %`}`);
      io.out(ok ? `the generator kept up with ${o.rate.toLocaleString('en-US')} ops/s (p99 sent late ≤ ${o.maxLateMs} ms)` : `the generator did NOT keep up with ${o.rate.toLocaleString('en-US')} ops/s${r.firstError === undefined ? '' : `; first error: ${r.firstError}`}`);
    }
    return ok ? LOADGEN_EXIT.ok : LOADGEN_EXIT.behind;
  } finally {
    await pool.destroy().catch(() => undefined);
    await server.stop();
  }
}


/** Adds the subcommand `loadgen` to `bench`; the action hands its exit code to `setCode`. */
export function registerLoadgenBenchCommand(bench: Command, setCode: (code: number) => void, io: Output): Command {
  const d = LOADGEN_DEFAULTS;
  return bench
    .command('loadgen')
    .description("scale check of bench compare's open-loop generator: the offered rate against a trivial server, how late ops were sent, the generator's CPU")
    .option('--rate <ops>', 'offered ops/s', positiveNumber('--rate'), d.rate)
    .option('--duration-s <s>', 'seconds of the schedule', seconds('--duration-s', true, 600), d.durationS)
    .option('--max-late-ms <ms>', 'pass when the p99 of how late ops were sent is at most this', positiveNumber('--max-late-ms'), d.maxLateMs)
    .option('--json', 'print one JSON object instead of text')
    .action(async (opts: LoadgenOptions) => {
      setCode(await loadgenCommand(opts, io));
    });
}
