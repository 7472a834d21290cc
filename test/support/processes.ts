/** Processes of this machine, for tests that check nothing they started outlived them. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** `pid: command line` of every process whose command line mentions `dir` ([] where there is no /proc). */
export function processesUsing(dir: string): string[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmd.includes(dir) ? [`${p}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });
}

/** Whether process `pid` still exists (signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
