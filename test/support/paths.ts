/** Paths tests use: the repository root, the shared Knossos histories, the dsync executable. */
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { knossosFiles } from '../../harness/bench/knossos-models.js';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** ../shared/data/knossos beside the repository (CI has it too). */
export const knossosDir = join(repoRoot, '..', 'shared', 'data', 'knossos');
/** The `dsync` executable. */
export const dsyncBin = join(repoRoot, 'bin', 'dsync.js');

/** Every `.edn` history under `dir`, as sorted paths relative to it. */
export function historyFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`test data folder ${dir} is missing (it lives in ../shared/data beside the repository)`);
  return knossosFiles(dir);
}

/** Stored runs kept as report fixtures: a valid one and one found INVALID (unsafe nodes). */
export const FIXTURE_RUNS = ['lock-partition-valid', 'lock-partition-unsafe'] as const;

/** The run folder of a fixture run (`test/fixtures/runs/<name>/<time>/`). */
export function fixtureRun(name: (typeof FIXTURE_RUNS)[number]): string {
  const parent = join(repoRoot, 'test', 'fixtures', 'runs', name);
  const [time] = readdirSync(parent);
  if (time === undefined) throw new Error(`fixture ${parent} holds no run folder`);
  return join(parent, time);
}

/** Copies fixture runs into a store root `root` as `<name>/<time>/`; returns each copy's folder. */
export function copyFixtureRuns(root: string, names: readonly (typeof FIXTURE_RUNS)[number][] = FIXTURE_RUNS): string[] {
  return names.map((name) => {
    const src = fixtureRun(name);
    const dst = join(root, name, basename(src));
    cpSync(src, dst, { recursive: true });
    return dst;
  });
}
