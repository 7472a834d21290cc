/**
 * One node per data dir: a `LOCK` file holding the owner's pid. Two processes appending to the
 * same Raft log would corrupt it, so a second node on a dir in use is refused with a clear
 * error. A lock left behind by a process that died (kill -9) is taken over: its pid is gone.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data dir's lock (creating the dir); resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
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
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const text = await readFile(path, 'utf8').catch(() => '');
      const pid = Number(text.trim());
      // Our own pid: another node in this very process holds it.
      if (Number.isSafeInteger(pid) && pid > 0 && (pid === process.pid || alive(pid))) throw new DataDirInUseError(dir, pid);
      await rm(path, { force: true }); // left by a process that is gone
    }
  }
}
