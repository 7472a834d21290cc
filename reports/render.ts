/**
 * Writes reports into the store: a run's `report.html` (from its folder alone) and the store's
 * `index.html`. Files are written then renamed, so a reader never sees half a page.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportHtml } from './html.js';
import { indexEntries, indexHtml } from './index-page.js';
import { buildReportData, type ReportLimits } from './report-data.js';
import { RUN_FILES, STORE_FILES } from '../harness/store-format.js';


function writeAtomically(file: string, text: string): number {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return Buffer.byteLength(text);
}

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

/** Renders `storeRoot/index.html` listing every run under it; returns it and the number of runs. */
export function renderIndex(storeRoot: string): Written & { readonly runs: number } {
  const entries = indexEntries(storeRoot);
  const file = join(storeRoot, STORE_FILES.index);
  return { file, bytes: writeAtomically(file, indexHtml(entries)), runs: entries.length };
}
