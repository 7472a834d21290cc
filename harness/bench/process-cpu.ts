/**
 * CPU time of server processes, for the benchmarks' "CPU seconds per 1,000 ops": user + system
 * time of every thread of each process (a Go server's goroutines, a Node.js node's libuv pool),
 * read from `/proc/<pid>/stat` (Linux). The kernel reports it in USER_HZ ticks, 100 per second on
 * every Linux architecture Node.js runs on.
 */
import { readFile } from 'node:fs/promises';

/** `/proc/<pid>/stat` ticks per second (USER_HZ). */
const TICKS_PER_S = 100;

/** User + system seconds `pid` has used, from the text of its `/proc/<pid>/stat`. */
export function statCpuSeconds(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return (utime + stime) / TICKS_PER_S;
}

/** The CPU seconds `pids` have used so far, summed; undefined when one cannot be read (not Linux, or gone). */
export async function cpuSeconds(pids: readonly number[]): Promise<number | undefined> {
  if (pids.length === 0) return undefined;
  try {
    const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8')));
    return stats.reduce((sum, s) => sum + statCpuSeconds(s), 0);
  } catch {
    return undefined;
  }
}

/**
 * Measures the CPU `pids` use between {@link CpuWindow.open} (called by the window itself after
 * `openInMs`, when given) and the first {@link CpuWindow.close}; the seconds are undefined when a
 * reading failed or the window was closed before it opened.
 */
export class CpuWindow {
  #start: Promise<number | undefined> | undefined;
  #closed: Promise<number | undefined> | undefined;
  readonly #openTimer: NodeJS.Timeout | undefined;
  constructor(
    private readonly pids: () => readonly number[],
    openInMs?: number,
  ) {
    if (openInMs !== undefined) this.#openTimer = setTimeout(() => void this.open(), Math.max(0, openInMs));
  }
  /** Takes the start reading; resolves once it is taken. */
  async open(): Promise<void> {
    this.#start = cpuSeconds(this.pids());
    await this.#start;
  }
  /** Takes the end reading the first time; every call resolves to the same seconds. */
  close(): Promise<number | undefined> {
    clearTimeout(this.#openTimer);
    this.#closed ??= (async () => {
      const end = await cpuSeconds(this.pids());
      const start = await this.#start;
      return start === undefined || end === undefined ? undefined : end - start;
    })();
    return this.#closed;
  }
}

/** `{cpuSPer1000}` for a load's result, or nothing when it was not measured. */
export function cpuField(cpuS: number | undefined, ops: number): { cpuSPer1000?: number } {
  const x = perThousand(cpuS, ops);
  return x === undefined ? {} : { cpuSPer1000: x };
}

/** CPU seconds per 1,000 ops, or undefined when not measured (or no op was). */
export function perThousand(cpuS: number | undefined, ops: number): number | undefined {
  return cpuS === undefined || ops <= 0 ? undefined : (cpuS * 1000) / ops;
}
