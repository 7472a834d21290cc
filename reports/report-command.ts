/**
 * `dsync report DIR`: re-renders reports from stored runs alone. DIR is a run folder
 * (`store/<experiment>/<time>`, or a `latest` link) → its `report.html` (and its store's
 * `index.html`, when there is one); a comparison's folder (`store/bench-compare/<time>`) → its
 * `compare.html` (and the index); or a store root → every run's `report.html` that can be made,
 * then `index.html`.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { errorMessage } from '../cluster/errors.js';
import { readCompareResults, writeCompareHtml } from './compare-html.js';
import { indexEntries } from './index-page.js';
import { newestRun, storeFolderKind } from './run-folder.js';
import { renderIndex, renderRunReport } from './render.js';
import { COMPARE_FILES, RUN_FILES, STORE_FILES } from '../harness/store-format.js';
import { EXIT_CODES } from '../checkers/index.js';

/** Where the command's lines go. */
export interface ReportIo {
  out(line: string): void;
  err(line: string): void;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/**
 * Renders the page of the run or comparison in `dir` with `render`, prints it, and refreshes the
 * index of the store it belongs to (`<root>/<experiment or bench-compare>/<time>`) when that store has one.
 */
async function renderInStore(dir: string, io: ReportIo, render: () => Promise<{ file: string; bytes: number }> | { file: string; bytes: number }): Promise<number> {
  try {
    const w = await render();
    io.out(`${w.file} (${kb(w.bytes)})`);
    const root = join(realpathSync(dir), '..', '..');
    if (existsSync(join(root, STORE_FILES.index))) renderIndex(root);
    return EXIT_CODES.valid;
  } catch (e) {
    io.err(`dsync report: ${errorMessage(e)}`);
    return EXIT_CODES.error;
  }
}

/** Renders what `dir` holds; resolves to the exit code (0 written, 3 nothing could be). */
export async function reportCommand(dir: string, o: { indexOnly?: boolean }, io: ReportIo): Promise<number> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) {
    io.err(`dsync report: ${dir}: no such folder (give a run folder such as store/latest, or a store root such as store)`);
    return EXIT_CODES.error;
  }
  const what = storeFolderKind(dir);
  switch (what.kind) {
    case 'run':
      return renderInStore(dir, io, () => renderRunReport(dir));
    case 'comparison':
      return renderInStore(dir, io, () => {
        const file = writeCompareHtml(dir, readCompareResults(join(dir, COMPARE_FILES.results)));
        return { file, bytes: statSync(file).size };
      });
    case 'unchecked-run':
      io.err(`dsync report: ${dir}: a run folder without ${RUN_FILES.results} (still running, or the harness died before checking): nothing to report yet`);
      return EXIT_CODES.error;
    case 'experiment':
      io.err(
        `dsync report: ${dir}: the runs of one experiment (${what.runs.length} run folder${what.runs.length === 1 ? '' : 's'}), not a run folder nor a store root; ` +
          `give one run, e.g. ${newestRun(dir, what.runs)}, or the store root: ${what.parent}`,
      );
      return EXIT_CODES.error;
    case 'inside-run':
      io.err(`dsync report: ${dir}: a folder inside the run ${what.run}, not a run folder nor a store root; give the run folder: ${what.run}`);
      return EXIT_CODES.error;
    case 'other':
      io.err(`dsync report: ${dir}: neither a run folder (no ${RUN_FILES.results}) nor a store root (no <experiment>/<time>/ run folders)`);
      return EXIT_CODES.error;
    case 'store':
      break;
    default: {
      const never: never = what;
      throw new Error(`unknown folder kind ${JSON.stringify(never)}`);
    }
  }
  const entries = indexEntries(dir);
  let failed = 0;
  let rendered = 0;
  if (!o.indexOnly) {
    for (const e of entries) {
      if (e.valid === null) continue;
      try {
        await renderRunReport(join(dir, e.path));
        rendered++;
      } catch (err) {
        failed++;
        io.err(`dsync report: ${errorMessage(err)}`);
      }
    }
  }
  const index = renderIndex(dir);
  io.out(`${index.file}: ${index.runs} runs${o.indexOnly ? '' : `, ${rendered} reports rendered`}${failed > 0 ? `, ${failed} failed` : ''}`);
  return failed > 0 ? EXIT_CODES.error : EXIT_CODES.valid;
}

/** Registers `report` on the program; `setCode` receives the exit code. */
export function registerReportCommand(program: Command, setCode: (code: number) => void, io: ReportIo): void {
  program
    .command('report')
    .description("render HTML reports from stored runs alone: a run folder's report.html, a comparison's compare.html, or for a store root every run's report and index.html")
    .argument('<dir>', 'a run folder (e.g. store/latest, store/lock-partition/20261121T101530.123Z), a comparison (store/bench-compare/<time>) or a store root (e.g. store)')
    .option('--index-only', 'for a store root: only write index.html')
    .action(async (dir: string, opts: { indexOnly?: boolean }) => {
      setCode(await reportCommand(dir, opts, io));
    });
}
