/** Paths tests use: the repository root, the shared Knossos histories, the dsync executable. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
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
