/**
 * Reads one run's store folder (`store/<experiment>/<time>/`) for its report: `results.json`
 * (validated as far as the report relies on it), the history (`history.jsonl`, else
 * `history.edn`), `config.yaml`, and the list of files to link. Nothing else is needed, so any
 * stored run can be re-rendered.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { readHistory } from '../checkers/history/read.js';
import type { Op } from '../checkers/history/op.js';
import type { LinearizabilityResult } from '../checkers/linearizable.js';
import type { FileLink } from './report-types.js';

/** A run folder that cannot be rendered; the message names the file and what is wrong. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

const validity = z.union([z.boolean(), z.literal('unknown')]);
const checkerResult = z.looseObject({ valid: validity, reason: z.string().optional() });

/** The parts of `results.json` (harness/run.ts `RunResults`) a report reads. */
const resultsSchema = z.looseObject({
  experiment: z.string(),
  description: z.string().prefault(''),
  startedAt: z.string(),
  finishedAt: z.string(),
  valid: validity,
  incomplete: z.boolean().prefault(false),
  error: z.string().optional(),
  reason: z.string().optional(),
  counts: z.object({ ok: z.number(), fail: z.number(), info: z.number(), nemesis: z.number() }),
  checker: z.looseObject({ valid: validity, reason: z.string().optional(), results: z.record(z.string(), checkerResult).optional() }),
  workload: z.string().prefault(''),
  nodes: z.array(z.string()).prefault([]),
});

/** `results.json` as the report reads it. */
export type StoredResults = z.infer<typeof resultsSchema>;

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
  ['history.edn', 'history (Jepsen EDN)'],
  ['history.jsonl', 'history (JSONL)'],
  ['results.json', 'results.json'],
  ['config.yaml', 'config.yaml'],
  ['run.log', 'harness log'],
] as const;

function size(file: string): number | undefined {
  try {
    const s = statSync(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
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
    nodeLogs = readdirSync(join(dir, 'nodes')).filter((f) => f.endsWith('.log'));
  } catch {
    // no nodes/ folder: nothing to link
  }
  for (const f of nodeLogs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const bytes = size(join(dir, 'nodes', f));
    if (bytes !== undefined) links.push({ label: `node ${basename(f, '.log')} log`, href: `nodes/${f}`, bytes });
  }
  return links;
}

/** Validates parsed `results.json` content. @throws RunFolderError naming the field */
export function parseResults(value: unknown, file: string): StoredResults {
  const r = resultsSchema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new RunFolderError(`${file}: not a dsync results file: ${problems.slice(0, 3).join('; ')}`);
}

/** Reads a run folder. @throws RunFolderError when it is not one (names the missing or bad file) */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  const resultsFile = join(dir, 'results.json');
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

  const historyFile = [join(dir, 'history.jsonl'), join(dir, 'history.edn')].find((f) => size(f) !== undefined);
  if (historyFile === undefined) throw new RunFolderError(`${dir}: no history.jsonl or history.edn`);
  let history: Op[];
  try {
    history = (await readHistory(historyFile)).ops;
  } catch (e) {
    throw new RunFolderError((e as Error).message);
  }
  let config = '';
  try {
    config = readFileSync(join(dir, 'config.yaml'), 'utf8');
  } catch {
    config = '# no config.yaml in the run folder';
  }
  return { dir, results, history, historyFile, config, files: linkedFiles(dir) };
}

/** The linearizability result inside a run's checker results, if the run had that checker. */
export function linearizability(results: StoredResults): { model: string; independent: boolean; result: LinearizabilityResult } | undefined {
  const lin = results.checker.results?.['linearizable'];
  if (lin === undefined || typeof lin['linearizability'] !== 'object' || lin['linearizability'] === null) return undefined;
  const result = lin['linearizability'] as LinearizabilityResult;
  if (!Array.isArray(result.partitions)) return undefined;
  return { model: typeof lin['model'] === 'string' ? lin['model'] : result.model, independent: lin['independent'] === true, result };
}
