/**
 * One Jepsen-style run (`dsync run`), in the phases of DESIGN.md:
 *
 * 1. store: create `store/<experiment>/<time>/`, write the resolved `config.yaml`;
 * 2. setup: start the cluster (backend) and wait for a leader;
 * 3. main phase: the workload's clients (open-loop rate) and the nemesis's schedule, for
 *    `timeLimitS`; every event goes to `history.jsonl` as it happens;
 * 4. final heal (a nemesis op in the history), then the final phase: client ops with no faults,
 *    for `finalPhaseS` (recovery time is measured here);
 * 5. teardown — ALWAYS, also on Ctrl-C, a harness error or the run's own deadline: heal every
 *    fault, close clients, kill every node and proxy;
 * 6. check the history (the workload's checker — independent keys on worker threads, stopping at
 *    the first invalid key, with a progress line when it takes a while — and perf statistics) and
 *    write `results.json`.
 *
 * Exit codes as `dsync check`: 0 valid, 1 invalid, 2 unknown, 3 the run itself failed.
 */
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Op } from '../checkers/history/op.js';
import { composeCheckers, nodeLogChecker, EXIT_CODES, exitCode, perfStats, type CheckerResult, type CheckProgress, type ExitCode, type Validity } from '../checkers/index.js';
import { backendDefinition } from '../cluster/backends.js';
import { hasLeader, type ClusterBackend } from '../cluster/backend.js';
import { nemesisPackage, type NemesisPackage } from '../nemesis/index.js';
import { workloadDefinition, type Workload } from '../workloads/index.js';
import { any, clientsOnly, nemesisOnly, phasesAwaitingNemesis, rate, timeLimit } from './generator/combinators.js';
import { interpret, realClock } from './generator/interpreter.js';
import type { Generator } from './generator/generator.js';
import { seedRand } from './generator/rand.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { clusterNodeArgs, experimentToYaml, workloadRunS, type Experiment } from './experiment.js';
import { countSnapshots } from './snapshot-count.js';
import { RunStore } from './store.js';
import { RUN_FILES, type RunResults } from './store-format.js';
import { CheckProgressLine, countEvent, ProgressLine, type OpCounts } from './progress.js';
import { errorMessage } from '../cluster/errors.js';
import { HARNESS_AUDIT_EVERY } from '../cluster/node/state-digest.js';
import { replicaAuditChecker } from './replica-audit.js';
import { LOSE_UNSYNCED_ENV } from '../cluster/raft/lazy-file-io.js';
import { renderIndex, renderRunReport } from '../reports/render.js';

/** Where a run's text goes. */
export interface RunIo {
  /** One line on stderr. */
  err(line: string): void;
  /** Raw stderr text (the progress line). */
  errRaw(text: string): void;
}

/** How to run an experiment. */
export interface RunOptions {
  readonly experiment: Experiment;
  /** @default "store" */
  readonly storeRoot?: string;
  readonly io: RunIo;
  /** Rewrite the progress line in place (stderr is a terminal). @default false */
  readonly tty?: boolean;
  /** No progress line. @default false */
  readonly quiet?: boolean;
  /** Aborts the run (like Ctrl-C): heal, tear down, keep the history. */
  readonly signal?: AbortSignal;
}

/** How a run ended. */
export interface RunOutcome {
  readonly exitCode: ExitCode;
  /**
   * The verdict; `incomplete` when the run was stopped early (Ctrl-C, SIGTERM, its deadline) and
   * its history is not invalid; `error` when the run itself failed (bad setup, a harness error).
   */
  readonly verdict: Validity | 'incomplete' | 'error';
  readonly store: string;
  readonly counts: OpCounts;
  /** One line: why it is not valid. */
  readonly reason?: string;
  readonly results?: RunResults;
  /** The run's `report.html`, unless it could not be written (the reason is on stderr and in run.log). */
  readonly report?: string;
}

/**
 * How long client ops still in flight at the end of a run, or when it is stopped, may take to
 * complete before they are abandoned as `info` (outcome unknown), ms.
 */
export const DRAIN_MS = 1000;

/** Total length of a run's phases, seconds (for lease TTLs and the hard deadline). */
export function runLengthS(e: Experiment): number {
  return e.timeLimitS + e.finalPhaseS;
}

/** The experiment's workload (from the registry) over `backend`'s nodes. */
function buildWorkload(e: Experiment, backend: ClusterBackend): Workload {
  const endpoints = new Map(backend.nodes.map((n) => [n, backend.endpoint(n)]));
  return workloadDefinition(e.workload.name).create(e.workload, { endpoints, runS: workloadRunS(e), seed: e.seed });
}

/**
 * The whole run's generator: main phase (clients + nemesis), final heal, final phase. The heal
 * comes at the main phase's end (once the nemesis's op in flight, if any, is done), without
 * waiting for client ops that the fault keeps blocked; the final phase starts when it is done.
 */
function runGenerator(e: Experiment, w: Workload, n: NemesisPackage): Generator {
  const ns = (s: number): number => Math.round(s * 1e9);
  const clients = (g: Generator, seed: number): Generator => clientsOnly(rate(e.rate, g, { jitter: e.jitter, rand: seedRand(seed) }));
  // One time limit around both (Jepsen's shape): its clock is never dropped by `any`.
  const main = timeLimit(ns(e.timeLimitS), any(clients(w.generator, e.seed * 7 + 1), nemesisOnly(n.generator)));
  const parts = [main, nemesisOnly(n.finalGenerator)];
  if (w.finalGenerator && e.finalPhaseS > 0) parts.push(timeLimit(ns(e.finalPhaseS), clients(w.finalGenerator, e.seed * 7 + 2)));
  return phasesAwaitingNemesis(...parts);
}

/**
 * Renders the run's `report.html` and the store's `index.html`. A report that cannot be written
 * is a warning (on stderr and in the log), never a change of the run's verdict.
 */
async function writeReports(runDir: string, storeRoot: string, io: RunIo, log: Logger): Promise<{ report?: string }> {
  const warn = (what: string, err: unknown): void => {
    log.warn({ err: errorMessage(err) }, `${what} not written`);
    io.err(`dsync run: warning: ${what} not written: ${errorMessage(err)}`);
  };
  let report: string | undefined;
  try {
    report = (await renderRunReport(runDir)).file;
  } catch (err) {
    warn('report', err);
  }
  try {
    renderIndex(storeRoot);
  } catch (err) {
    warn('store index', err);
  }
  return report === undefined ? {} : { report };
}

/** Runs one experiment end to end; never throws (a harness failure is exit code 3 with the reason). */
export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  const e = o.experiment;
  let store: RunStore;
  try {
    store = RunStore.create(o.storeRoot ?? 'store', e.name);
  } catch (err) {
    const reason = `cannot create the run's folder under ${o.storeRoot ?? 'store'}: ${errorMessage(err)}`;
    return { exitCode: EXIT_CODES.error, verdict: 'error', store: '', counts: { ok: 0, fail: 0, info: 0, nemesis: 0 }, reason };
  }
  const counts: OpCounts = { ok: 0, fail: 0, info: 0, nemesis: 0 };
  const log: Logger = pino({ base: { experiment: e.name } }, pino.destination({ dest: store.path(RUN_FILES.log), sync: true }));
  const startedAt = new Date();
  store.writeText(RUN_FILES.config, experimentToYaml(e));
  store.markLatest();
  o.io.err(`dsync run: ${e.name} — ${e.nodes} ${e.backend} node${e.nodes === 1 ? '' : 's'}, ${e.timeLimitS} s + ${e.finalPhaseS} s final, seed ${e.seed}; store ${store.dir}`);

  const abort = new AbortController();
  // Stopped from outside (Ctrl-C, SIGTERM, a suite's stop): the run is incomplete, not failed.
  let interrupted = false;
  const onAbort = (): void => {
    interrupted = true;
    abort.abort(o.signal?.reason ?? new Error('aborted'));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  // The run's own deadline: every phase plus generous setup/teardown time.
  const hardMs = (runLengthS(e) + 120) * 1000;
  const deadline = setTimeout(() => abort.abort(new Error(`the run exceeded its deadline of ${hardMs / 1000} s`)), hardMs);

  let backend: ClusterBackend | undefined;
  let redis: RedisServer | undefined;
  let workload: Workload | undefined;
  let nemesis: NemesisPackage | undefined;
  let progress: ProgressLine | undefined;
  let history: Op[] = [];
  let nodeLogs: ReadonlyMap<string, string> = new Map();
  let error: string | undefined;
  try {
    const phase = (what: string): void => log.info({ phase: what }, what);
    phase('setup');
    if (e.cluster.cache.redis) {
      // The cache's main memory for this run: a real redis-server (AOF, fsync always), ours to stop.
      redis = await startRedisServer({ dir: join(store.nodesDir, 'redis'), log: (line) => log.info({ redis: line }, line) });
      log.info({ redis: redis.url }, `redis-server for the cache at ${redis.url}`);
    }
    backend = await backendDefinition(e.backend).start({
      nodes: e.nodes,
      dir: store.nodesDir,
      nodeArgs: ['--audit-every', String(HARNESS_AUDIT_EVERY), ...clusterNodeArgs(e), ...(redis ? ['--redis', redis.url] : []), ...e.nodeArgs],
      clockFaults: e.nemesis.faults.includes('clock'),
      ...(e.nemesis.kill.loseUnsynced ? { nodeEnv: { [LOSE_UNSYNCED_ENV]: '1' } } : {}),
      log: (msg, fields) => log.info(fields ?? {}, msg),
    });
    nodeLogs = backend.logFiles();
    if (abort.signal.aborted) throw abort.signal.reason;
    if (hasLeader(backend) && e.nodes > 1) {
      const leader = await backend.leader(15_000);
      if (leader === null) throw new Error('the cluster elected no leader within 15 s; see the node logs');
      log.info({ leader }, 'leader elected');
    }
    workload = buildWorkload(e, backend);
    log.info({ workload: workload.describe }, 'workload');
    nemesis = nemesisPackage(e.nemesis, backend, { seed: e.seed, log: (msg, fields) => log.info(fields ?? {}, msg) });
    const nem = nemesis;
    const client = workload.client;
    const t0 = Date.now();
    if (!o.quiet) {
      progress = new ProgressLine({
        write: o.io.errRaw,
        tty: o.tty ?? false,
        render: () => {
          const el = ((Date.now() - t0) / 1000).toFixed(1);
          const faults = nem.nemesis.active();
          return `[${el}/${runLengthS(e)} s] ok ${counts.ok} fail ${counts.fail} info ${counts.info} | faults: ${faults.length > 0 ? faults.join(', ') : 'none'}`;
        },
      });
    }
    phase('run');
    const result = await interpret({
      gen: runGenerator(e, workload, nemesis),
      concurrency: e.concurrency,
      client: (op) => client.invoke(op),
      nemesis: (op) => nem.nemesis.invoke(op),
      // Time 0 of the history is the start of the main phase (Jepsen's relative time).
      clock: realClock(),
      signal: abort.signal,
      ...(nem.stopOp ? { stopOp: nem.stopOp } : {}),
      drainNs: DRAIN_MS * 1e6,
      history,
      onEvent: (ev) => {
        countEvent(counts, ev);
        store.appendEvent(ev);
      },
    });
    history = result.history;
    if (result.abandoned > 0) log.info({ abandoned: result.abandoned, drainMs: DRAIN_MS }, 'client ops abandoned as info at the end of the run');
    if (result.aborted) throw abort.signal.reason ?? new Error('aborted');
  } catch (err) {
    error = errorMessage(err);
    log.error({ err: error }, 'run failed');
  } finally {
    clearTimeout(deadline);
    o.signal?.removeEventListener('abort', onAbort);
    progress?.stop();
    log.info({ phase: 'teardown' }, 'teardown');
    try {
      await nemesis?.nemesis.healAll();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'heal failed');
    }
    await workload?.client.close().catch(() => undefined);
    await backend?.teardown().catch((err: unknown) => log.error({ err: errorMessage(err) }, 'teardown failed'));
    await redis?.stop().catch((err: unknown) => log.error({ err: errorMessage(err) }, 'stopping redis-server failed'));
  }
  await store.finishHistory(history);

  // Check what was recorded, even after an error: an invalid prefix is still invalid.
  log.info({ phase: 'check' }, 'check');
  const checkLine = o.quiet ? undefined : new CheckProgressLine({ write: o.io.errRaw, tty: o.tty ?? false, what: 'checking the history' });
  let checker: CheckerResult;
  try {
    checker = workload
      ? await composeCheckers([workload.checker, ...(workload.moreCheckers ?? []), replicaAuditChecker(nodeLogs), nodeLogChecker(nodeLogs)]).checkAsync(history, {
          timeoutMs: e.checkTimeoutMs,
          stopAtFirstInvalid: true,
          ...(checkLine ? { onProgress: (p: CheckProgress) => checkLine.update(p) } : {}),
        })
      : { valid: 'unknown' as const, reason: 'no workload ran' };
  } finally {
    checkLine?.stop();
  }
  const perf = perfStats(history);
  const results: RunResults = {
    experiment: e.name,
    description: e.description,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    valid: error !== undefined && checker.valid !== false ? 'incomplete' : checker.valid,
    incomplete: error !== undefined,
    ...(error !== undefined ? { error } : {}),
    ...(checker.reason !== undefined ? { reason: checker.reason } : {}),
    counts,
    checker,
    perf,
    workload: workload?.describe ?? '',
    nodes: [...(backend?.nodes ?? [])],
  };
  store.writeJson(RUN_FILES.results, results);
  const snapshots = countSnapshots(nodeLogs);
  if (snapshots.taken + snapshots.installed > 0) o.io.err(`dsync run: snapshots: ${snapshots.taken} taken, ${snapshots.installed} installed (node logs)`);
  log.info({ valid: checker.valid, counts, error, snapshots }, 'done');
  const report = await writeReports(store.dir, o.storeRoot ?? 'store', o.io, log);
  log.flush();

  if (error !== undefined && checker.valid !== false) {
    return { exitCode: EXIT_CODES.error, verdict: interrupted ? 'incomplete' : 'error', store: store.dir, counts, reason: error, results, ...report };
  }
  const reason = checker.valid === true ? undefined : checker.reason ?? String(checker.valid);
  return { exitCode: exitCode(checker.valid), verdict: checker.valid, store: store.dir, counts, ...(reason ? { reason } : {}), results, ...report };
}
