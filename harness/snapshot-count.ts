/** Counts the snapshots a run's nodes took and installed, from their logs (the store keeps them). */
import { readFileSync } from 'node:fs';

/** Snapshots taken (log compactions) and installed from a leader, over every node and restart. */
export interface SnapshotTally {
  readonly taken: number;
  readonly installed: number;
}

/** The node log lines that mark a snapshot (cluster/node/node.ts). */
const TAKEN = '"msg":"snapshot taken, log compacted"';
const INSTALLED = '"msg":"snapshot installed from the leader"';

/** Tallies the snapshot lines of every log in `logs` (node id → file); a missing file counts nothing. */
export function countSnapshots(logs: ReadonlyMap<string, string>): SnapshotTally {
  let taken = 0;
  let installed = 0;
  for (const file of logs.values()) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.includes(TAKEN)) taken++;
      else if (line.includes(INSTALLED)) installed++;
    }
  }
  return { taken, installed };
}
