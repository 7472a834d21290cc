/**
 * Writes reports into the store: a run's `report.html` (from its folder alone) and the store's
 * `index.html` (a comparison's `compare.html` is written by reports/compare-html.ts). Files are
 * written then renamed, so a reader never sees half a page.
 */
import { join } from 'node:path';
import { writeAtomically } from './atomic-write.js';
import { reportHtml } from './html.js';
import { compareEntries, indexEntries, indexHtml } from './index-page.js';
import { buildReportData, type ReportLimits } from './report-data.js';
import { RUN_FILES, STORE_FILES } from '../harness/store-format.js';

/** What was written. */
export interface Written {
  readonly file: string;
  readonly bytes: number;
}

/** Renders `runDir/report.html` from the run folder. @throws RunFolderError when it is not a checked run */
export async function renderRunReport(runDir: string, limits: ReportLimits = {}): Promise<Written> {
  const data = await buildReportData(runDir, limits);
  const file = join(runDir, RUN_FILES.report);
  return { file, bytes: writeAtomically(file, reportHtml(data)) };
}

/** Renders `storeRoot/index.html` listing every run and comparison under it; returns it and how many of each it lists. */
export function renderIndex(storeRoot: string): Written & { readonly runs: number; readonly comparisons: number } {
  const entries = indexEntries(storeRoot);
  const comparisons = compareEntries(storeRoot);
  const file = join(storeRoot, STORE_FILES.index);
  return { file, bytes: writeAtomically(file, indexHtml(entries, comparisons)), runs: entries.length, comparisons: comparisons.length };
}
