/**
 * Reads one run's store folder (`store/<experiment>/<time>/`) for its report: `results.json`
 * (validated as far as the report relies on it), the history (`history.jsonl`, else
 * `history.edn`), `config.yaml`, and the list of files to link. Nothing else is needed, so any
 * stored run can be re-rendered.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readHistory } from '../checkers/history/read.js';
import type { Op } from '../checkers/history/op.js';
import type { LinearizabilityResult } from '../checkers/index.js';
import { COMPARE_FILES, RUN_FILES, STORE_FILES, validateResults, type StoredResults } from '../harness/store-format.js';
import type { FileLink } from './report-types.js';

/** A run folder that cannot be rendered; the message names the file and what is wrong. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** One stored run, read. */
export interface RunFolder {
  readonly dir: string;
  readonly results: StoredResults;
  readonly history: readonly Op[];
  /** Which history file was read. */
  readonly historyFile: string;
  readonly config: string;
  readonly files: readonly FileLink[];
}

/** The files a report links to, in this order, when present. */
const LINKED = [
  [RUN_FILES.historyEdn, 'history (Jepsen EDN)'],
  [RUN_FILES.historyJsonl, 'history (JSONL)'],
  [RUN_FILES.results, RUN_FILES.results],
  [RUN_FILES.config, RUN_FILES.config],
  [RUN_FILES.log, 'harness log'],
] as const;

function size(file: string): number | undefined {
  try {
    const s = statSync(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** The files only a run folder has: one of them makes a folder a run (checked or not, e.g. still running). */
const RUN_MARKERS = [RUN_FILES.results, RUN_FILES.historyJsonl, RUN_FILES.historyEdn, RUN_FILES.config, RUN_FILES.log] as const;

/**
 * Whether `dir` is a run folder (`<store>/<experiment>/<time>/`): it holds a file only runs write,
 * and it is not a comparison's folder (whose results.json is another file).
 */
export function isRunFolder(dir: string): boolean {
  return RUN_MARKERS.some((f) => size(join(dir, f)) !== undefined) && !isCompareFolder(dir);
}

/**
 * Whether `dir` is a comparison's folder (`<store>/bench-compare/<time>/`, `dsync bench compare`'s
 * results and page), by its place in the store: the folder it is in, or the one its link points into,
 * is `bench-compare`.
 */
export function isCompareFolder(dir: string): boolean {
  const inCompare = (d: string): boolean => basename(dirname(d)) === COMPARE_FILES.folder;
  if (inCompare(resolve(dir))) return true;
  try {
    return inCompare(realpathSync(dir));
  } catch {
    return false;
  }
}

/** Sub-folders of `dir`, not hidden ones, and not links (a `latest` link is a symlink, not a directory, to readdir). */
export function subFolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** What a folder given to `dsync report` is. */
export type StoreFolderKind =
  /** A run folder with `results.json`. */
  | { readonly kind: 'run' }
  /** A comparison's folder with its `results.json` (`<store>/bench-compare/<time>/`). */
  | { readonly kind: 'comparison' }
  /** A run folder without `results.json` (still running, or the harness died). */
  | { readonly kind: 'unchecked-run' }
  /** An experiment's folder: its sub-folders are runs. `parent`: the store root. */
  | { readonly kind: 'experiment'; readonly runs: readonly string[]; readonly parent: string }
  /** A folder inside a run folder (`nodes/`, a node's data dir): `run` is the run folder. */
  | { readonly kind: 'inside-run'; readonly run: string }
  /** A store root: folders of experiments, each holding run folders. */
  | { readonly kind: 'store' }
  /** None of those (empty, or something else). */
  | { readonly kind: 'other' };

/** Tells what `dir` is in a store's layout (`<root>/<experiment>/<time>/`), from the files it holds. */
export function storeFolderKind(dir: string): StoreFolderKind {
  if (isCompareFolder(dir)) {
    if (size(join(dir, COMPARE_FILES.results)) !== undefined) return { kind: 'comparison' };
  } else {
    if (size(join(dir, RUN_FILES.results)) !== undefined) return { kind: 'run' };
    if (isRunFolder(dir)) return { kind: 'unchecked-run' };
  }
  const subs = subFolders(dir);
  const runs = subs.filter((s) => isRunFolder(join(dir, s)));
  if (runs.length > 0) return { kind: 'experiment', runs: runs.sort(), parent: dirname(dir) };
  if (subs.some((s) => subFolders(join(dir, s)).some((r) => isRunFolder(join(dir, s, r))))) return { kind: 'store' };
  if (subFolders(join(dir, COMPARE_FILES.folder)).length > 0) return { kind: 'store' };
  for (let up = dirname(dir), n = 0; n < 3 && up !== dirname(up); up = dirname(up), n++) {
    if (isRunFolder(up)) return { kind: 'inside-run', run: up };
  }
  return { kind: 'other' };
}

/** The `latest` link's path of an experiment folder when it has one, else its newest run's. */
export function newestRun(experimentDir: string, runs: readonly string[]): string {
  if (isRunFolder(join(experimentDir, STORE_FILES.latest))) return join(experimentDir, STORE_FILES.latest);
  return join(experimentDir, [...runs].sort().at(-1) ?? '');
}

/** The run folder's files worth linking: histories, results, config, logs, each node's log. */
export function linkedFiles(dir: string): FileLink[] {
  const links: FileLink[] = [];
  for (const [href, label] of LINKED) {
    const bytes = size(join(dir, href));
    if (bytes !== undefined) links.push({ label, href, bytes });
  }
  let nodeLogs: string[] = [];
  try {
    nodeLogs = readdirSync(join(dir, RUN_FILES.nodes)).filter((f) => f.endsWith('.log'));
  } catch {
    // no nodes/ folder: nothing to link
  }
  for (const f of nodeLogs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const bytes = size(join(dir, RUN_FILES.nodes, f));
    if (bytes !== undefined) links.push({ label: `node ${basename(f, '.log')} log`, href: `${RUN_FILES.nodes}/${f}`, bytes });
  }
  return links;
}

/** Validates parsed `results.json` content. @throws RunFolderError naming the field */
export function parseResults(value: unknown, file: string): StoredResults {
  const r = validateResults(value);
  if (r.ok) return r.results;
  throw new RunFolderError(`${file}: not a dsync results file: ${r.problems.join('; ')}`);
}

/** Reads a run folder. @throws RunFolderError when it is not one (names the missing or bad file) */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  const resultsFile = join(dir, RUN_FILES.results);
  let text: string;
  try {
    text = readFileSync(resultsFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunFolderError(
      code === 'ENOENT' ? `${resultsFile}: no such file — not a checked run folder (dsync run writes it after the check)` : `${resultsFile}: ${(e as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RunFolderError(`${resultsFile}: not valid JSON: ${(e as Error).message}`);
  }
  const results = parseResults(json, resultsFile);

  const historyFile = [join(dir, RUN_FILES.historyJsonl), join(dir, RUN_FILES.historyEdn)].find((f) => size(f) !== undefined);
  if (historyFile === undefined) throw new RunFolderError(`${dir}: no ${RUN_FILES.historyJsonl} or ${RUN_FILES.historyEdn}`);
  let history: Op[];
  try {
    history = (await readHistory(historyFile)).ops;
  } catch (e) {
    throw new RunFolderError((e as Error).message);
  }
  let config = '';
  try {
    config = readFileSync(join(dir, RUN_FILES.config), 'utf8');
  } catch {
    config = `# no ${RUN_FILES.config} in the run folder`;
  }
  return { dir, results, history, historyFile, config, files: linkedFiles(dir) };
}

/**
 * The linearizability result inside a run's checker results, if a checker of the run returned one
 * (found by its `linearizability` field, whatever the checker is called).
 */
export function linearizability(results: StoredResults): { model: string; independent: boolean; result: LinearizabilityResult } | undefined {
  for (const r of Object.values(results.checker.results ?? {})) {
    const result = r['linearizability'] as LinearizabilityResult | null | undefined;
    if (typeof result !== 'object' || result === null || !Array.isArray(result.partitions)) continue;
    return { model: typeof r['model'] === 'string' ? r['model'] : result.model, independent: r['independent'] === true, result };
  }
  return undefined;
}
