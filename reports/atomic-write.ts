/** Writing a page into the store so that no reader ever sees half of it. */
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `text` to `file` through a temporary file renamed over it; returns the bytes written. */
export function writeAtomically(file: string, text: string): number {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return Buffer.byteLength(text);
}
