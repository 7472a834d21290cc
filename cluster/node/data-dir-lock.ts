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
import { bootId, processAlive, startTime } from '../process-identity.js';

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

/** `boot-id:start-time` of a process on Linux, or '' where /proc cannot tell. */
function identity(pid: number): string {
  const boot = bootId();
  const start = startTime(pid);
  return boot === '' || start === '' ? '' : `${boot}:${start}`;
}

/** Is the process named by a lock file's text still the one that wrote it? */
async function holderAlive(text: string): Promise<number | null> {
  const [pidText, recorded = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return null;
  if (recorded === '') return pid; // no identity recorded: trust the pid
  const now = identity(pid);
  return now === '' || now === recorded ? pid : null;
}

/** Takes the data dir's lock (creating the dir durably); resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  // The same durable mkdir as the storage's: the new dir's name is fsynced into its parent.
  await makeDir(resolve(dir), { fsyncs: 0, fsyncMicros: [] });
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid} ${identity(process.pid)}\n`;
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
