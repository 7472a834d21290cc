/**
 * The project's layering, enforced on the source tree (a lint inside the test suite):
 * - workloads/ and nemesis/ build on the harness and the checkers only through their public
 *   surfaces, `harness/index.ts` and `checkers/index.ts` (the arrows run one way: the harness's
 *   run orchestration imports them, never the reverse);
 * - checkers/ and cluster/ import nothing of the harness, workloads, nemeses or reports;
 * - the contracts other tools read are defined once: the verdict type, the exit codes, the store's
 *   file names and the results.json shape.
 * Each rule is first shown to fire on a planted violation.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { repoRoot } from './support/paths.js';

const SOURCE_FOLDERS = ['checkers', 'cluster', 'harness', 'workloads', 'nemesis', 'reports'];

/** Every source file: repo-relative `/`-path → text. */
function sourceTree(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.ts')) files.set(relative(repoRoot, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  for (const f of SOURCE_FOLDERS) walk(join(repoRoot, f));
  return files;
}

/** The text without comments (so that prose naming a file or a type is not code). */
const stripComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

/** The repo-relative modules a file imports (static and dynamic, `import` and `export ... from`), `.js` → `.ts`. */
function importsOf(file: string, text: string): string[] {
  const specs = [...stripComments(text).matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.filter((s) => s.startsWith('.')).map((s) => posix.normalize(posix.join(posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

const folderOf = (path: string): string => path.split('/')[0] as string;

/** Every broken rule of the layering, one line each. */
export function layeringViolations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const from = folderOf(file);
    for (const target of importsOf(file, text)) {
      const to = folderOf(target);
      if ((from === 'workloads' || from === 'nemesis') && (to === 'harness' || to === 'checkers') && target !== `${to}/index.ts`) {
        out.push(`${file} imports ${target}: ${from}/ may import ${to}/ only through ${to}/index.ts`);
      }
      if ((from === 'checkers' || from === 'cluster') && ['harness', 'workloads', 'nemesis', 'reports'].includes(to)) {
        out.push(`${file} imports ${target}: ${from}/ sits below the harness and imports nothing of ${to}/`);
      }
      if ((file === 'harness/index.ts' || file.startsWith('harness/generator/')) && (to === 'workloads' || to === 'nemesis')) {
        out.push(`${file} imports ${target}: the harness's public surface must not import what builds on it`);
      }
    }
  }
  return out;
}

/** Contracts defined more than once: each pattern may match code in its home file only. */
const ONCE: readonly { what: string; home: string; pattern: RegExp }[] = [
  { what: 'the verdict type', home: 'checkers/checker.ts', pattern: /(?:true\s*\|\s*false|boolean)\s*\|\s*'unknown'/ },
  { what: 'the exit codes', home: 'checkers/checker.ts', pattern: /\b(?:invalid|false)\s*:\s*1\b[^;]{0,40}\bunknown\s*:\s*2\b/ },
  { what: "the store's file names", home: 'harness/store-format.ts', pattern: /['"`](?:results\.json|history\.jsonl|history\.edn|config\.yaml|run\.log|report\.html|index\.html)['"`]/ },
  { what: 'the results.json shape', home: 'harness/store-format.ts', pattern: /\binterface\s+(?:RunResults|StoredResults)\b|\btype\s+(?:RunResults|StoredResults)\s*=|\bresultsSchema\s*=/ },
];

/** Every contract defined outside its home, one line each. */
export function duplicateContracts(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const code = stripComments(text);
    for (const c of ONCE) if (file !== c.home && c.pattern.test(code)) out.push(`${file}: defines ${c.what} again (its home is ${c.home})`);
  }
  return out;
}

describe('layering of the source tree', () => {
  it('finds planted violations of every rule', () => {
    const planted = new Map([
      ['workloads/x.ts', "import { nextFloat } from '../harness/generator/rand.js';\nimport type { Op } from '../checkers/history/op.js';"],
      ['nemesis/y.ts', "export { run } from '../harness/run.js';"],
      ['checkers/z.ts', "const m = await import('../harness/index.js');"],
      ['harness/index.ts', "export { lockWorkload } from '../workloads/lock.js';"],
      ['workloads/ok.ts', "// import { x } from '../harness/run.js';\nimport { prng } from '../harness/index.js';\nimport { linearizableChecker } from '../checkers/index.js';"],
    ]);
    assert.deepEqual(layeringViolations(planted), [
      'workloads/x.ts imports harness/generator/rand.ts: workloads/ may import harness/ only through harness/index.ts',
      'workloads/x.ts imports checkers/history/op.ts: workloads/ may import checkers/ only through checkers/index.ts',
      'nemesis/y.ts imports harness/run.ts: nemesis/ may import harness/ only through harness/index.ts',
      'checkers/z.ts imports harness/index.ts: checkers/ sits below the harness and imports nothing of harness/',
      "harness/index.ts imports workloads/lock.ts: the harness's public surface must not import what builds on it",
    ]);
    const twice = new Map([
      ['reports/v.ts', "export type Verdict = true | false | 'unknown';"],
      ['harness/e.ts', 'const EXIT_OF = { true: 0, false: 1, unknown: 2 } as const;'],
      ['reports/f.ts', "const file = join(dir, 'results.json');"],
      ['harness/r.ts', 'export interface RunResults { readonly valid: boolean }'],
      ['reports/ok.ts', "/** reads results.json, 'results.json' */\nconst x = RUN_FILES.results;"],
    ]);
    assert.deepEqual(duplicateContracts(twice), [
      'reports/v.ts: defines the verdict type again (its home is checkers/checker.ts)',
      'harness/e.ts: defines the exit codes again (its home is checkers/checker.ts)',
      "reports/f.ts: defines the store's file names again (its home is harness/store-format.ts)",
      'harness/r.ts: defines the results.json shape again (its home is harness/store-format.ts)',
    ]);
  });

  it('holds on the source tree', () => {
    const files = sourceTree();
    assert.ok(files.size > 100 && files.has('harness/index.ts'), `read ${files.size} source files from ${dirname(repoRoot)}`);
    assert.deepEqual(layeringViolations(files), []);
    assert.deepEqual(duplicateContracts(files), []);
  });
});
