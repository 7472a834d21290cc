/**
 * `dsync catalogue [FILE]` (what `npm run test:catalogue` calls; a test aid, so hidden from
 * `--help`): runs every experiment the bug catalogue names once on the clean build (each must be
 * **valid**), then each planted bug — its failpoint set in `DSYNC_FAILPOINTS` for every node —
 * on its experiments in order until one run is **invalid** (caught). One line per run, a summary
 * line, `catalogue.json` in the store; exit 0 only if every bug is caught and every clean run is
 * valid. Each run is its own `dsync run` process, so a planted bug never leaks into another run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { execa } from 'execa';
import { catalogueExperiments, loadCatalogue, type Catalogue, type CatalogueBug } from './catalogue.js';
import { storeTime } from './store.js';
import { applyOverrides, loadExperiment } from './experiment.js';
import { EXIT_CODES } from '../checkers/index.js';
import { errorMessage } from '../cluster/errors.js';
import type { Output } from './check-command.js';

/** The verdict of one catalogue run, from `dsync run`'s exit code. */
export type CaseVerdict = 'valid' | 'invalid' | 'unknown' | 'error';

/** One `dsync run` of the catalogue. */
export interface CaseRun {
  /** The failpoint planted, or null for a clean run. */
  readonly failpoint: string | null;
  readonly experiment: string;
  /** The seed it ran with, when the catalogue set one (else the file's). */
  readonly seed?: number;
  readonly verdict: CaseVerdict;
  /** Wall time of the whole run (start of the cluster to the verdict), ms. */
  readonly ms: number;
  /** The run's summary line (`name: VERDICT — counts — store — why`), or the error. */
  readonly summary: string;
}

/** Runs one experiment with `failpoint` planted (null: none), with `seed` if given (else the file's). */
export type RunCase = (experiment: string, failpoint: string | null, seed?: number) => Promise<CaseRun>;

/** What became of each bug and each clean run. */
export interface CatalogueOutcome {
  readonly clean: readonly CaseRun[];
  readonly bugs: readonly { readonly failpoint: string; readonly bug: string; readonly caught: boolean; readonly knownGap?: string; readonly runs: readonly CaseRun[] }[];
  readonly ms: number;
  /** Exit code: 0 every bug caught (but known gaps) and every clean run valid, 1 otherwise. */
  readonly exitCode: number;
}

/** Options of {@link runCatalogue}. */
export interface RunCatalogueOptions {
  readonly runCase: RunCase;
  /** A line of progress or result. */
  readonly log: (line: string) => void;
  /** Only these failpoints (default: all). */
  readonly only?: readonly string[];
  /** Run the clean build too. @default true */
  readonly clean?: boolean;
}

const name = (file: string): string => basename(file, extname(file));

/** One try of a bug: an experiment, with a seed or the file's. */
interface Try {
  readonly experiment: string;
  readonly seed?: number;
}

/** A bug's tries, in order: each experiment with each of its seeds. */
const triesOf = (b: CatalogueBug): Try[] =>
  b.experiments.flatMap((experiment) => (b.seeds === undefined ? [{ experiment }] : b.seeds.map((seed) => ({ experiment, seed }))));

const tryName = (t: Try): string => `${name(t.experiment)}${t.seed === undefined ? '' : `#${t.seed}`}`;

/** Runs the catalogue: the clean runs first, then each bug until caught. */
export async function runCatalogue(c: Catalogue, o: RunCatalogueOptions): Promise<CatalogueOutcome> {
  const t0 = performance.now();
  const bugs = o.only === undefined ? c.bugs : c.bugs.filter((b) => o.only?.includes(b.failpoint));
  const clean: CaseRun[] = [];
  const cleanTries = new Map<string, Try>();
  if (o.clean !== false) for (const t of bugs.flatMap(triesOf)) cleanTries.set(tryName(t), t);
  for (const t of cleanTries.values()) {
    const r = await o.runCase(t.experiment, null, t.seed);
    clean.push(r);
    o.log(`${r.verdict === 'valid' ? 'valid ' : 'WRONG '}  clean build              ${tryName(t).padEnd(24)} ${secs(r.ms)}  ${r.summary}`);
  }
  const out: CatalogueOutcome['bugs'][number][] = [];
  for (const b of bugs) {
    const runs: CaseRun[] = [];
    for (const t of triesOf(b)) {
      const r = await o.runCase(t.experiment, b.failpoint, t.seed);
      runs.push(r);
      const caught = r.verdict === 'invalid';
      o.log(`${caught ? 'caught' : 'missed'}  ${b.failpoint.padEnd(24)} ${tryName(t).padEnd(24)} ${secs(r.ms)}  ${r.summary}`);
      if (caught) break;
    }
    const caught = runs.some((r) => r.verdict === 'invalid');
    if (b.knownGap !== undefined) {
      o.log(caught ? `note    ${b.failpoint}: listed as a known gap, but caught: remove its knownGap` : `gap     ${b.failpoint}: missed, a known gap: ${b.knownGap}`);
    }
    out.push({ failpoint: b.failpoint, bug: b.bug, caught, ...(b.knownGap !== undefined ? { knownGap: b.knownGap } : {}), runs });
  }
  const ms = performance.now() - t0;
  const missed = out.filter((b) => !b.caught && b.knownGap === undefined).map((b) => b.failpoint);
  const gaps = out.filter((b) => !b.caught && b.knownGap !== undefined).map((b) => b.failpoint);
  const wrong = clean.filter((r) => r.verdict !== 'valid').map((r) => tryName(r));
  o.log(
    `catalogue: ${out.length - missed.length - gaps.length}/${out.length} planted bugs caught` +
      `${missed.length > 0 ? ` (MISSED: ${missed.join(', ')})` : ''}${gaps.length > 0 ? ` (known gaps, not caught: ${gaps.join(', ')})` : ''}; ` +
      `clean build ${clean.length - wrong.length}/${clean.length} valid${wrong.length > 0 ? ` (NOT VALID: ${wrong.join(', ')})` : ''}; ${secs(ms)} in all`,
  );
  return { clean, bugs: out, ms, exitCode: missed.length === 0 && wrong.length === 0 ? EXIT_CODES.valid : EXIT_CODES.invalid };
}

function secs(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1).padStart(5)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const DSYNC = fileURLToPath(new URL('../../bin/dsync.js', import.meta.url));

/** A {@link RunCase} that runs `dsync run EXPERIMENT --store storeRoot --quiet` in its own process. */
export function processRunCase(storeRoot: string): RunCase {
  return async (experiment, failpoint, seed) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DSYNC_FAILPOINTS;
    if (failpoint !== null) env.DSYNC_FAILPOINTS = failpoint;
    const t0 = performance.now();
    const r = await execa(process.execPath, ['--enable-source-maps', DSYNC, 'run', experiment, '--store', storeRoot, '--quiet', ...(seed === undefined ? [] : ['--seed', String(seed)])], {
      env,
      extendEnv: false,
      reject: false,
      all: true,
      // A run is bounded by its experiment; this only stops a hung one.
      timeout: 10 * 60_000,
    });
    const ms = performance.now() - t0;
    const verdict: CaseVerdict = r.exitCode === 0 ? 'valid' : r.exitCode === 1 ? 'invalid' : r.exitCode === 2 ? 'unknown' : 'error';
    const lines = String(r.stdout ?? '').split('\n');
    const line = lines.find((l) => l.startsWith(`${name(experiment)}: `)) ?? lines.find((l) => /: (valid|INVALID|UNKNOWN|ERROR) — /.test(l));
    const summary = line ?? `dsync run exited ${r.exitCode ?? r.signal ?? '?'}${r.timedOut ? ' (timed out)' : ''}: ${String(r.all ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
    return { failpoint, experiment, ...(seed === undefined ? {} : { seed }), verdict, ms, summary };
  };
}

interface CatalogueFlags {
  only?: string;
  clean: boolean;
  store: string;
}

/**
 * Every experiment of `c` loaded as its runs would load it (with each seed the catalogue tries),
 * so that a bad one is refused before any run: the problems, one line each (none: all good).
 */
export function catalogueExperimentProblems(c: Catalogue): string[] {
  const problems = new Set<string>();
  for (const file of catalogueExperiments(c)) {
    const seeds = new Set<number | undefined>(c.bugs.filter((b) => b.experiments.includes(file)).flatMap((b): (number | undefined)[] => (b.seeds === undefined ? [undefined] : [...b.seeds])));
    for (const seed of seeds) {
      try {
        applyOverrides(loadExperiment(file), seed === undefined ? {} : { seed });
      } catch (e) {
        for (const line of errorMessage(e).split('\n')) problems.add(line);
      }
    }
  }
  return [...problems];
}

/** Registers the hidden `catalogue` command; `setCode` receives the exit code. */
export function registerCatalogueCommand(program: Command, setCode: (code: number) => void, io: Output, knownFailpoints?: () => readonly string[]): void {
  program
    .command('catalogue', { hidden: true })
    .description('run the bug catalogue: every planted bug must make its experiment invalid, the clean build valid (a test aid)')
    .argument('[file]', 'catalogue YAML', 'experiments/catalogue/catalogue.yaml')
    .option('--only <failpoints>', 'comma-separated failpoints to run (default: all)')
    .option('--no-clean', 'skip the clean-build runs')
    .option('--store <dir>', 'where runs are stored', 'store')
    .action(async (file: string, flags: CatalogueFlags) => {
      let c: Catalogue;
      try {
        c = loadCatalogue(file, knownFailpoints?.());
      } catch (e) {
        io.err(`dsync catalogue: ${errorMessage(e)}`);
        setCode(EXIT_CODES.error);
        return;
      }
      const problems = catalogueExperimentProblems(c);
      if (problems.length > 0) {
        for (const p of problems) io.err(`dsync catalogue: ${p}`);
        setCode(EXIT_CODES.error);
        return;
      }
      const only = flags.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = only?.filter((f) => !c.bugs.some((b) => b.failpoint === f)) ?? [];
      if (unknown.length > 0) {
        io.err(`dsync catalogue: --only: ${unknown.join(', ')} not in ${file} (it lists ${c.bugs.map((b) => b.failpoint).join(', ')})`);
        setCode(EXIT_CODES.error);
        return;
      }
      const dir = join(flags.store, 'catalogue', storeTime(new Date()));
      mkdirSync(dir, { recursive: true });
      const experiments = catalogueExperiments(c).length;
      io.out(`dsync catalogue: ${c.bugs.length} planted bugs on ${experiments} experiments; runs in ${dir}`);
      const outcome = await runCatalogue(c, {
        runCase: processRunCase(join(dir, 'runs')),
        log: io.out,
        ...(only !== undefined ? { only } : {}),
        clean: flags.clean,
      });
      const rel = (r: CaseRun): CaseRun => ({ ...r, experiment: relative(process.cwd(), r.experiment) });
      writeFileSync(
        join(dir, 'catalogue.json'),
        `${JSON.stringify({ file, ms: outcome.ms, clean: outcome.clean.map(rel), bugs: outcome.bugs.map((b) => ({ ...b, runs: b.runs.map(rel) })) }, null, 2)}\n`,
      );
      setCode(outcome.exitCode);
    });
}
