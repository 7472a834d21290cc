/**
 * One node per data dir: a `LOCK` file naming the owner process (pid, and on Linux the boot id
 * and the process's start time, so a reused pid — a container restarted after kill -9 runs as
 * pid 1 again — is not mistaken for the owner). Two processes appending to the same Raft log
 * would corrupt it, so a second node on a dir in use is refused with a clear error; a lock left
 * behind by a process that is gone is taken over — also one killed a moment ago whose parent has
 * not reaped it yet: a zombie (state `Z` in /proc) holds no files and no longer counts as alive.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeDir } from '../raft/storage-recovery.js';

/** The name of the lock file inside a data dir. */
export const LOCK_FILE = 'LOCK';

/** The data dir is in use by a live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the data dir ${dir} is in use by process ${pid} (${join(dir, LOCK_FILE)}); two nodes must never share a data dir`);
    this.name = 'DataDirInUseError';
  }
}

/**
 * The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
 * parentheses): the state letter is the first, the start time the 20th.
 * @throws where /proc cannot tell (no such process, not Linux)
 */
async function procStatFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `boot-id:start-time` of a process on Linux, or '' where /proc cannot tell. */
async function identity(pid: number): Promise<string> {
  try {
    const [boot, fields] = await Promise.all([readFile('/proc/sys/kernel/random/boot_id', 'utf8'), procStatFields(pid)]);
    const start = fields[19]; // field 22 of the whole line
    return start === undefined ? '' : `${boot.trim()}:${start}`;
  } catch {
    return '';
  }
}

/** A process's state letter from /proc (`R`, `S`, `Z`, ...), or '' where /proc cannot tell. */
async function state(pid: number): Promise<string> {
  try {
    return (await procStatFields(pid))[0] ?? '';
  } catch {
    return '';
  }
}

/** Whether `pid` is a running process: it exists and is neither a zombie nor dead (exited, not yet reaped). */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const s = await state(pid);
  return s !== 'Z' && s !== 'X' && s !== 'x';
}

/** Is the process named by a lock file's text still the one that wrote it? */
async function holderAlive(text: string): Promise<number | null> {
  const [pidText, recorded = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !(await alive(pid))) return null;
  if (recorded === '') return pid; // no identity recorded: trust the pid
  const now = await identity(pid);
  return now === '' || now === recorded ? pid : null;
}

/** Takes the data dir's lock (creating the dir durably); resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  // The same durable mkdir as the storage's: the new dir's name is fsynced into its parent.
  await makeDir(resolve(dir), { fsyncs: 0, fsyncMicros: [] });
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid} ${await identity(process.pid)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(mine);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return async () => {
        const now = await readFile(path, 'utf8').catch(() => '');
        if (now === mine) await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const text = await readFile(path, 'utf8').catch(() => '');
      const holder = await holderAlive(text);
      // A second attempt that still finds a file lost a race with another starter.
      if (holder !== null || attempt > 0) throw new DataDirInUseError(dir, holder ?? Number(text.trim().split(' ')[0]));
      await rm(path, { force: true }); // left by a process that is gone
    }
  }
}
