/**
 * Per-node wall clocks without root, through Debian's libfaketime: a node started with
 * `LD_PRELOAD=libfaketime.so.1` and `FAKETIME_TIMESTAMP_FILE=<file>` sees its wall clock
 * (`Date.now`, `clock_gettime(CLOCK_REALTIME)`) shifted by the offset written in that file, e.g.
 * `+600.000` or `-0.250` seconds. The file is read on every clock call (`FAKETIME_NO_CACHE`, about
 * 9 µs a call instead of 0.1 µs), so rewriting it moves the clock at once; monotonic clocks are
 * left alone (`FAKETIME_DONT_FAKE_MONOTONIC`), so timers, Raft timeouts and `performance.now`
 * keep running true. A missing or empty file means no offset.
 *
 * libfaketime's rate syntax (`+0 x1.5`) is not used: its rate runs from the process's start (a
 * jump of `(rate - 1) × uptime` when set) and sticks until another rate is written, so the nemesis
 * emulates drift by stepping the offset.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';

/** Where Debian (and Ubuntu) install the library, package `libfaketime`. */
export const LIBFAKETIME_PATHS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'] as const;

/** The environment variable that names another libfaketime.so.1. */
export const LIBFAKETIME_ENV = 'DSYNC_LIBFAKETIME';

/** libfaketime could not be found: clock faults cannot run on this machine. */
export class LibfaketimeMissingError extends Error {
  readonly code = 'LIBFAKETIME_MISSING';
  constructor(tried: readonly string[]) {
    super(`clock faults need libfaketime (LD_PRELOAD library libfaketime.so.1), not found at ${tried.join(', ')}: install the Debian package libfaketime (apt-get install libfaketime), or name the library in $${LIBFAKETIME_ENV}`);
    this.name = 'LibfaketimeMissingError';
  }
}

/**
 * The path of libfaketime.so.1: `$DSYNC_LIBFAKETIME` if set, else the first of
 * {@link LIBFAKETIME_PATHS} that exists.
 * @throws LibfaketimeMissingError naming what was tried and the package to install
 */
export function findLibfaketime(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string {
  const given = env[LIBFAKETIME_ENV];
  const tried = given ? [given] : [...LIBFAKETIME_PATHS];
  const found = tried.find((p) => exists(p));
  if (found === undefined) throw new LibfaketimeMissingError(tried);
  return found;
}

/** The environment that runs a process under libfaketime with its clock offset read from `offsetFile`. */
export function faketimeEnv(library: string, offsetFile: string): Record<string, string> {
  return {
    LD_PRELOAD: library,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * An offset in libfaketime's relative syntax, to the millisecond: `+600.000`, `-0.250`.
 * @throws RangeError for a non-finite offset
 */
export function formatClockOffset(offsetS: number): string {
  if (!Number.isFinite(offsetS)) throw new RangeError(`clock offset must be a finite number of seconds, got ${offsetS}`);
  const ms = Math.round(offsetS * 1000);
  return `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(3)}`;
}

/**
 * Writes `offsetS` to `file` atomically (a temporary file renamed over it), so a node reading it
 * at any moment sees the old offset or the new one, never half a line.
 */
export function writeClockOffset(file: string, offsetS: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${formatClockOffset(offsetS)}\n`);
  renameSync(tmp, file);
}
