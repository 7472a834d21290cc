/** Paths tests use: the repository root, the shared Knossos histories, the dsync executable. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync, readdirSync, statSync } from 'node:fs';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** ../shared/data/knossos beside the repository (CI has it too). */
export const knossosDir = join(repoRoot, '..', 'shared', 'data', 'knossos');
/** The `dsync` executable. */
export const dsyncBin = join(repoRoot, 'bin', 'dsync.js');

/** Every history file under `dir`, as paths relative to it, sorted. */
export function historyFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) throw new Error(`test data folder ${dir} is missing (it lives in ../shared/data beside the repository)`);
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...historyFiles(p, `${prefix}${name}/`));
    else if (name.endsWith('.edn')) out.push(`${prefix}${name}`);
  }
  return out;
}
