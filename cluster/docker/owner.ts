/**
 * Who made a run's containers: the harness process, named as `<hostname>:<pid>:<start time>`
 * (the start time from /proc, so that a reused pid is not taken for the owner). `dsync clean`
 * keeps what a live harness on this machine still uses, unless told to take everything.
 */
import { hostname } from 'node:os';
import { processAlive, startTime } from '../process-identity.js';

/** This process as an owner label's value. */
export function ownerOf(pid: number = process.pid): string {
  return `${hostname()}:${pid}:${startTime(pid)}`;
}

/** Whether `owner` (a label's value) names a process that is alive on this machine now (a zombie is not; another user's is). */
export function ownerAlive(owner: string | undefined): boolean {
  const m = owner === undefined ? null : /^(.*):(\d+):(\d*)$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (!processAlive(pid)) return false;
  return m[3] === '' || startTime(pid) === m[3];
}
