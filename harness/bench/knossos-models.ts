/**
 * Which model, initial value and verdict each history of ../shared/data/knossos/ has: the folder
 * names the model and `good/` or `bad/` the verdict (see that folder's README).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findModel, type Model } from '../../checkers/index.js';

/** How to check one Knossos history, and what its verdict must be. */
export interface KnossosCase {
  readonly model: Model;
  readonly initial?: unknown;
  readonly expected: boolean;
}

/** The case for a path relative to the knossos folder (e.g. `mutex/bad/etcd.edn`), if known. */
export function knossosModelFor(relPath: string): KnossosCase | undefined {
  const [dir, verdict] = relPath.split(/[\\/]/);
  if (verdict !== 'good' && verdict !== 'bad') return undefined;
  const expected = verdict === 'good';
  switch (dir) {
    case 'cas-register':
    case 'mutex':
      return { model: findModel(dir) as Model, expected };
    case 'multi-register':
      // Knossos' test checks it with (multi-register {:x 0 :y 0}), as the file's comment says.
      return { model: findModel('multi-register') as Model, initial: { x: 0, y: 0 }, expected };
    default:
      return undefined;
  }
}

/** Every `.edn` history under `dir`, as sorted paths relative to it. @throws if `dir` is missing */
export function knossosFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...knossosFiles(p, `${prefix}${name}/`));
    else if (name.endsWith('.edn')) out.push(`${prefix}${name}`);
  }
  return out;
}
