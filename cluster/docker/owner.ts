/**
 * Who made a run's containers: the harness process, named as `<hostname>:<pid>:<start time>`
 * (the start time from /proc, so that a reused pid is not taken for the owner). `dsync clean`
 * keeps what a live harness on this machine still uses, unless told to take everything.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or '' where /proc cannot tell. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** This process as an owner label's value. */
export function ownerOf(pid: number = process.pid): string {
  return `${hostname()}:${pid}:${startTime(pid)}`;
}

/** Whether `owner` (a label's value) names a process that is alive on this machine now. */
export function ownerAlive(owner: string | undefined): boolean {
  const m = owner === undefined ? null : /^(.*):(\d+):(\d*)$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return m[3] === '' || startTime(pid) === m[3];
}
