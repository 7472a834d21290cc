/**
 * `dsync run EXPERIMENT.yaml` (one run) and `dsync suite EXPERIMENT.yaml...` (several, one line
 * each — what `npm run test:jepsen` calls). Ctrl-C (or SIGTERM) aborts a run cleanly: faults are
 * healed, every node is stopped, the history so far is kept and checked; a second Ctrl-C exits at
 * once (child processes are still killed on exit).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { applyOverrides, loadExperiment, type Experiment, type ExperimentOverrides } from './experiment.js';
import { runExperiment, type RunOutcome } from './run.js';
import { errorMessage } from '../cluster/errors.js';
import { EXIT_CODES, worseExitCode, type ExitCode } from '../checkers/index.js';
import { backendDefinition, backendNames } from '../cluster/backends.js';
import type { Output } from './check-command.js';

/** Flags of `run` and `suite`. */
interface RunFlags {
  backend?: string;
  timeLimit?: number;
  seed?: number;
  store?: string;
  quiet?: boolean;
}

const positive = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number, got "${v}"`);
  return n;
};
const seed = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`--seed must be a non-negative integer, got "${v}"`);
  return n;
};

/** The one summary line of a finished run. */
export function summaryLine(name: string, r: RunOutcome): string {
  const verdict = r.verdict === true ? 'valid' : r.verdict === false ? 'INVALID' : r.verdict === 'unknown' ? 'UNKNOWN' : r.verdict === 'incomplete' ? 'INCOMPLETE' : 'ERROR';
  const c = r.counts;
  const why = r.reason !== undefined && r.verdict !== true ? ` — ${r.reason.split('\n')[0]}` : '';
  return `${name}: ${verdict} — ok ${c.ok}, fail ${c.fail}, info ${c.info}, nemesis ${c.nemesis}${r.store ? ` — ${r.store}` : ''}${why}`;
}

function load(file: string, flags: RunFlags): Experiment {
  const overrides: ExperimentOverrides = {
    ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
    ...(flags.timeLimit !== undefined ? { timeLimitS: flags.timeLimit } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
  };
  return applyOverrides(loadExperiment(file), overrides);
}

/** Signals this soon after the first are one Ctrl-C delivered twice, not a second one. */
const DUPLICATE_SIGNAL_MS = 1000;

/** Runs with Ctrl-C/SIGTERM wired to an abort. */
async function withSignals<T>(f: (signal: AbortSignal) => Promise<T>, io: Output): Promise<T> {
  const ac = new AbortController();
  let first: number | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    const now = performance.now();
    if (first === undefined) {
      first = now;
      io.err(`dsync: ${sig}: stopping — healing faults and stopping the nodes (again to exit at once)`);
      ac.abort(new Error(`interrupted by ${sig}`));
    } else if (now - first >= DUPLICATE_SIGNAL_MS) {
      // A second, deliberate Ctrl-C: exit now (the nodes are still killed on exit).
      process.exit(EXIT_CODES.error);
    }
    // Within DUPLICATE_SIGNAL_MS: the same Ctrl-C delivered twice (a launcher such as npm forwards
    // the signal its process group already received) — ignored.
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await f(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Asks each backend the experiments use whether it can start here (a Docker engine that answers),
 * before any store folder is made; false after one line per backend that cannot.
 */
async function preflight(experiments: readonly Experiment[], command: string, io: Output): Promise<boolean> {
  let ok = true;
  for (const name of new Set(experiments.map((e) => e.backend))) {
    try {
      await backendDefinition(name).preflight?.();
    } catch (err) {
      io.err(`dsync ${command}: backend ${name}: ${errorMessage(err)}`);
      ok = false;
    }
  }
  return ok;
}

/** Runs one experiment as the flags say and prints its summary line. */
async function runOne(e: Experiment, flags: RunFlags, signal: AbortSignal, io: Output): Promise<RunOutcome> {
  const r = await runExperiment({
    experiment: e,
    storeRoot: flags.store ?? 'store',
    io: { err: io.err, errRaw: (s: string) => process.stderr.write(s) },
    tty: process.stderr.isTTY === true,
    quiet: flags.quiet ?? false,
    signal,
  });
  io.out(summaryLine(e.name, r));
  return r;
}

/**
 * A run's exit code as the suite counts it: an experiment that expects `invalid` passes (0) when
 * its run is invalid and fails (1, with a line saying so) when it is valid; unknown and errors
 * count as they are.
 */
export function suiteExitCode(e: Pick<Experiment, 'name' | 'expect'>, code: ExitCode, io: Pick<Output, 'out'>): ExitCode {
  if (e.expect !== 'invalid') return code;
  if (code === EXIT_CODES.invalid) {
    io.out(`${e.name}: invalid, as expected`);
    return EXIT_CODES.valid;
  }
  if (code === EXIT_CODES.valid) {
    io.out(`${e.name}: VALID, but it is expected to be invalid — the harness missed what this experiment shows`);
    return EXIT_CODES.invalid;
  }
  return code;
}

/** Registers `run` and `suite` on the program; `setCode` receives the exit code. */
export function registerRunCommands(program: Command, setCode: (code: number) => void, io: Output): void {
  const common = (c: Command): Command =>
    c
      .option('--backend <name>', `cluster backend: ${backendNames().join(', ')} (default: the experiment's, else local)`)
      .option('--time-limit <s>', "length of the main phase in seconds (overrides the file's timeLimitS)", positive('--time-limit'))
      .option('--seed <n>', 'seed of the op sequence and the nemesis (overrides the file)', seed)
      .option('--store <dir>', 'where runs are stored', 'store')
      .option('--quiet', 'no progress line');

  common(
    program
      .command('run')
      .description('run one Jepsen-style experiment: start a cluster, drive the workload under the nemesis, check the history')
      .argument('<experiment>', 'experiment YAML file, e.g. experiments/lock-partition.yaml'),
  ).action(async (file: string, flags: RunFlags) => {
    let e: Experiment;
    try {
      e = load(file, flags);
    } catch (err) {
      io.err(`dsync run: ${errorMessage(err)}`);
      setCode(EXIT_CODES.error);
      return;
    }
    if (!(await preflight([e], 'run', io))) {
      setCode(EXIT_CODES.error);
      return;
    }
    const r = await withSignals((signal) => runOne(e, flags, signal, io), io);
    if (r.report !== undefined) io.out(`report: ${r.report}`);
    setCode(r.exitCode);
  });

  common(
    program
      .command('suite')
      .description('run several experiments one after another, one line each; exit 0 only if every one is valid (npm run test:jepsen)')
      .argument('<experiments...>', 'experiment YAML files'),
  ).action(async (files: string[], flags: RunFlags) => {
    const experiments: Experiment[] = [];
    for (const f of files) {
      try {
        experiments.push(load(f, flags));
      } catch (err) {
        io.err(`dsync suite: ${errorMessage(err)}`);
        setCode(EXIT_CODES.error);
        return;
      }
    }
    if (!(await preflight(experiments, 'suite', io))) {
      setCode(EXIT_CODES.error);
      return;
    }
    let worst: ExitCode = EXIT_CODES.valid;
    await withSignals(async (signal) => {
      for (const e of experiments) {
        if (signal.aborted) break;
        const r = await runOne(e, flags, signal, io);
        worst = worseExitCode(worst, suiteExitCode(e, r.exitCode, io));
      }
    }, io);
    io.out(`${experiments.length} experiments: ${worst === EXIT_CODES.valid ? 'all as expected' : 'NOT all as expected'}`);
    setCode(worst);
  });
}
