/**
 * A third-party server the benchmarks compare against (nats-server, redis-server), run as a
 * child process on loopback: started with its arguments, its last log lines kept for error
 * messages, its exit noticed, killed on stop.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { errorMessage } from '../../cluster/errors.js';

/** Whether an executable `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** A running server process. */
export class ServerProcess {
  /** Set once the process has exited, e.g. `exited with code 1`. */
  exit?: string;
  /** Its last log lines (stdout and stderr), oldest first. */
  readonly tail: string[] = [];
  readonly #child: ResultPromise<{ stdin: 'ignore'; stdout: 'pipe'; stderr: 'pipe'; buffer: false; reject: false }>;

  /**
   * Starts `bin` with `args`. Every line it logs goes to `log` when `forward(line)` says so
   * (default: none), prefixed with `name`.
   */
  constructor(
    readonly name: string,
    bin: string,
    args: readonly string[],
    log: (line: string) => void = () => undefined,
    forward: (line: string) => boolean = () => false,
  ) {
    this.#child = execa(bin, args, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false, cleanup: true });
    void this.#child.then(
      (r) => (this.exit = r.signal ? `killed by ${r.signal}` : `exited with code ${r.exitCode ?? '?'}`),
      (e: unknown) => (this.exit = `failed: ${errorMessage(e)}`),
    );
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > 10) this.tail.shift();
        if (forward(line)) log(`${name}: ${line}`);
      });
    }
  }

  /** Its process id (undefined if it could not be spawned). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** `; its last log lines: ...`, or nothing when it logged nothing. */
  lastLines(): string {
    return this.tail.length === 0 ? '' : `; its last log lines:\n  ${this.tail.join('\n  ')}`;
  }

  /** Kills it with SIGKILL (its data is thrown away anyway); resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.exit !== undefined) return;
    this.#child.kill('SIGKILL');
    await this.#child.catch(() => undefined);
  }
}

/**
 * Calls `ready()` every 100 ms until it resolves to true; throws when `timeoutMs` passes (with
 * `why()`, the last reason it was not ready) or when one of `processes` exits meanwhile.
 */
export async function waitReady(
  label: string,
  processes: readonly ServerProcess[],
  ready: () => Promise<boolean>,
  why: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const dead = processes.find((p) => p.exit !== undefined);
    if (dead !== undefined) throw new Error(`${label}: ${dead.name} ${dead.exit} before it was ready${dead.lastLines()}`);
    if (await ready()) return;
    if (performance.now() > deadline) throw new Error(`${label}: not ready after ${timeoutMs} ms: ${why()}${processes[0]?.lastLines() ?? ''}`);
    await sleep(100);
  }
}
