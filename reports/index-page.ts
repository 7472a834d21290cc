/**
 * `store/index.html`: every stored run, newest first — experiment, start time, length, verdict
 * as a colour, op counts, the reason when not valid, and a link to its report (or its folder
 * when it has none yet) — then every benchmark comparison (`bench-compare/<time>/`), newest first,
 * with its services, sizes and first summary sentence, linking its compare.html. Static HTML, no
 * script, works offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCompareResults } from './compare-html.js';
import { escapeHtml, fmtDate } from './html-format.js';
import { isRunFolder, parseResults, subFolders } from './run-folder.js';
import type { RunVerdict } from '../checkers/index.js';
import { COMPARE_FILES, RUN_FILES } from '../harness/store-format.js';

/** One row of the index. */
export interface IndexEntry {
  readonly experiment: string;
  /** Relative to the store root, `/`-separated: `<experiment>/<time>`. */
  readonly path: string;
  readonly startedAt: string | null;
  readonly durationS: number | null;
  /** `null`: no readable results.json (running, crashed, or not a run). */
  readonly valid: RunVerdict | null;
  readonly counts: { readonly ok: number; readonly fail: number; readonly info: number; readonly nemesis: number } | null;
  /** Why it is not valid, or why it has no verdict. */
  readonly note: string;
  readonly hasReport: boolean;
}

function entry(root: string, experiment: string, run: string): IndexEntry {
  const dir = join(root, experiment, run);
  const base = { experiment, path: `${experiment}/${run}`, hasReport: existsSync(join(dir, RUN_FILES.report)) };
  const file = join(dir, RUN_FILES.results);
  if (!existsSync(file)) return { ...base, startedAt: null, durationS: null, valid: null, counts: null, note: `no ${RUN_FILES.results} (still running, or the harness died)` };
  try {
    const r = parseResults(JSON.parse(readFileSync(file, 'utf8')), file);
    const durationS = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    const note = r.valid === true ? '' : r.valid === 'incomplete' ? `did not complete: ${r.error ?? 'no reason recorded'}` : (r.reason ?? r.error ?? '');
    return { ...base, startedAt: r.startedAt, durationS: Number.isFinite(durationS) ? durationS : null, valid: r.valid, counts: r.counts, note };
  } catch (e) {
    return { ...base, startedAt: null, durationS: null, valid: null, counts: null, note: `unreadable ${RUN_FILES.results}: ${(e as Error).message}` };
  }
}

/**
 * Every run folder under `root` (`<experiment>/<time>/` holding a file only runs write; `latest`
 * links and any other folder skipped), newest first.
 */
export function indexEntries(root: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const experiment of subFolders(root)) {
    for (const run of subFolders(join(root, experiment))) if (isRunFolder(join(root, experiment, run))) entries.push(entry(root, experiment, run));
  }
  // Run folders are named by their start time (ISO basic), so the name orders them.
  const time = (e: IndexEntry): string => e.path.slice(e.experiment.length + 1);
  return entries.sort((a, b) => time(b).localeCompare(time(a)) || a.experiment.localeCompare(b.experiment));
}

/** One row of the index's comparisons. */
export interface CompareEntry {
  /** Relative to the store root, `/`-separated: `bench-compare/<time>`. */
  readonly path: string;
  /** `null`: no readable results.json. */
  readonly startedAt: string | null;
  /** The services asked for, and those of them not measured. */
  readonly services: readonly string[];
  readonly missing: readonly string[];
  readonly nodes: readonly number[];
  /** The first summary sentence, or why there is none. */
  readonly headline: string;
  /** The headline says why results.json could not be read. */
  readonly unreadable: boolean;
  readonly hasPage: boolean;
}

function compareEntry(root: string, time: string): CompareEntry {
  const dir = join(root, COMPARE_FILES.folder, time);
  const base = { path: `${COMPARE_FILES.folder}/${time}`, hasPage: existsSync(join(dir, COMPARE_FILES.page)) };
  const none = { startedAt: null, services: [], missing: [], nodes: [], unreadable: true };
  const file = join(dir, COMPARE_FILES.results);
  if (!existsSync(file)) return { ...base, ...none, headline: `no ${COMPARE_FILES.results} (still running, or the benchmark died)` };
  try {
    const r = readCompareResults(file);
    const headline = r.summary[0] ?? (r.errors[0] !== undefined ? `error: ${r.errors[0]}` : 'no summary');
    return {
      ...base,
      startedAt: r.startedAt,
      services: r.options.services,
      missing: r.missing.map((m) => m.service),
      nodes: r.options.nodes,
      headline,
      unreadable: false,
    };
  } catch (e) {
    return { ...base, ...none, headline: `unreadable ${COMPARE_FILES.results}: ${(e as Error).message}` };
  }
}

/** Every comparison's folder under `root` (`bench-compare/<time>/`), newest first. */
export function compareEntries(root: string): CompareEntry[] {
  // Comparison folders are named by their start time, so the name orders them.
  return subFolders(join(root, COMPARE_FILES.folder))
    .sort((a, b) => b.localeCompare(a))
    .map((time) => compareEntry(root, time));
}

const VERDICT: Record<string, { label: string; cls: string }> = {
  true: { label: 'valid', cls: 'valid' },
  false: { label: 'INVALID', cls: 'invalid' },
  unknown: { label: 'unknown', cls: 'unknown' },
  incomplete: { label: 'incomplete', cls: 'incomplete' },
  null: { label: 'no verdict', cls: 'none' },
};

/** The comparisons' table (nothing when there are none). */
function comparisonsHtml(comparisons: readonly CompareEntry[]): string {
  if (comparisons.length === 0) return '';
  const rows = comparisons.map((c) => {
    const href = c.hasPage ? `${c.path}/${COMPARE_FILES.page}` : `${c.path}/`;
    const missing = c.missing.length === 0 ? '' : ` <span class="muted">(not measured: ${escapeHtml(c.missing.join(', '))})</span>`;
    return `<tr${c.unreadable ? ' class="none"' : ''}>
<td><a href="${escapeHtml(encodeURI(href))}">${escapeHtml(c.startedAt === null ? (c.path.split('/')[1] ?? '') : fmtDate(c.startedAt))}</a></td>
<td>${escapeHtml(c.services.join(', '))}${missing}</td>
<td>${escapeHtml(c.nodes.join(', '))}</td>
<td class="note">${escapeHtml(c.headline)}${c.hasPage ? '' : ` <em>(no ${COMPARE_FILES.page}: dsync report renders one)</em>`}</td>
</tr>`;
  });
  return `<h2>Benchmark comparisons</h2>
<p class="sub">${comparisons.length} comparison${comparisons.length === 1 ? '' : 's'} of dsync bench compare</p>
<table id="comparisons">
<thead><tr><th>started</th><th>services</th><th>nodes</th><th>summary</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
`;
}

/** The index page of `entries` (runs) and `comparisons`. */
export function indexHtml(entries: readonly IndexEntry[], comparisons: readonly CompareEntry[] = [], generatedAt: Date = new Date()): string {
  const counts = { valid: 0, invalid: 0, unknown: 0, incomplete: 0, none: 0 };
  const rows = entries.map((e) => {
    const v = VERDICT[String(e.valid)] ?? (VERDICT['null'] as { label: string; cls: string });
    counts[v.cls as keyof typeof counts]++;
    const href = e.hasReport ? `${e.path}/${RUN_FILES.report}` : `${e.path}/`;
    const c = e.counts;
    const num = (n: number | undefined): string => (n === undefined ? '' : n.toLocaleString('en-US'));
    return `<tr class="${v.cls}">
<td>${escapeHtml(e.experiment)}</td>
<td><a href="${escapeHtml(encodeURI(href))}">${escapeHtml(e.startedAt ?? e.path.split('/')[1] ?? '')}</a></td>
<td class="num">${e.durationS === null ? '' : e.durationS.toFixed(1)}</td>
<td class="verdict"><span>${v.label}</span></td>
<td class="num">${num(c?.ok)}</td><td class="num">${num(c?.fail)}</td><td class="num">${num(c?.info)}</td><td class="num">${num(c?.nemesis)}</td>
<td class="note">${escapeHtml(e.note)}${e.hasReport ? '' : ` <em>(no ${RUN_FILES.report}: dsync report renders one)</em>`}</td>
</tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dsync runs</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 4px; }
.muted { color: #666; }
p.sub { color: #666; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f6f6f6; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.verdict span { display: inline-block; min-width: 72px; text-align: center; border-radius: 3px; padding: 1px 6px; font-weight: 600; color: #fff; }
tr.valid td.verdict span { background: #2e9e44; }
tr.invalid td.verdict span { background: #d1342f; }
tr.unknown td.verdict span { background: #e0a100; }
tr.incomplete td.verdict span { background: #d4700a; }
tr.none td.verdict span { background: #999; }
td.note { color: #555; max-width: 60ch; }
a { color: #1a5fb4; }
</style></head>
<body>
<h1>dsync runs</h1>
<p class="sub">${entries.length} run${entries.length === 1 ? '' : 's'}: ${counts.valid} valid, ${counts.invalid} invalid, ${counts.unknown} unknown, ${counts.incomplete} incomplete, ${counts.none} without a verdict — written ${escapeHtml(generatedAt.toISOString())}</p>
<table id="runs">
<thead><tr><th>experiment</th><th>started</th><th class="num">length (s)</th><th>verdict</th><th class="num">ok</th><th class="num">fail</th><th class="num">info</th><th class="num">nemesis</th><th>why</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${comparisonsHtml(comparisons)}</body></html>
`;
}
