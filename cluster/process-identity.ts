/**
 * What /proc says of a process of this machine: whether it is alive (it exists — also when it
 * belongs to another user — and is neither a zombie nor dead), and when it started, so that a
 * reused pid is not taken for the process that once had it. Used by the data dir's lock file and
 * by the owner labels of the docker backend's runs.
 */
import { readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
 * parentheses): the state letter is the first, the start time the 20th.
 * @throws where /proc cannot tell (no such process, not Linux)
 */
function procStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or '' where /proc cannot tell. */
export function startTime(pid: number): string {
  try {
    return procStatFields(pid)[19] ?? '';
  } catch {
    return '';
  }
}

/** This boot's id (/proc/sys/kernel/random/boot_id), or '' where /proc cannot tell. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Whether `pid` is a running process: it exists (EPERM: another user's) and is neither a zombie nor dead (exited, not yet reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let s = '';
  try {
    s = procStatFields(pid)[0] ?? '';
  } catch {
    s = '';
  }
  return s !== 'Z' && s !== 'X' && s !== 'x';
}
