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
import { freePorts } from '../../cluster/local/node-process.js';

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

/** A Node.js script server started by {@link startScriptServer}. */
export interface ScriptServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly process: ServerProcess;
}

/**
 * Runs `script` with `node -e` on a free port of 127.0.0.1 (its first argument, then `args`) and
 * waits up to 10 s until `GET <readyPath>` answers 2xx; kills it and throws (naming `label` and
 * the last reason) when it does not.
 */
export async function startScriptServer(label: string, script: string, args: readonly string[], readyPath: string, log?: (line: string) => void): Promise<ScriptServer> {
  const [port] = (await freePorts(1)) as [number];
  const address = `127.0.0.1:${port}`;
  const server = new ServerProcess(label, process.execPath, ['-e', script, String(port), ...args], log, (line) => /error/i.test(line));
  let why = 'no answer yet';
  const ready = async (): Promise<boolean> => {
    try {
      return (await fetch(`http://${address}${readyPath}`, { signal: AbortSignal.timeout(500) })).ok;
    } catch (e) {
      why = errorMessage(e);
      return false;
    }
  };
  try {
    await waitReady(label, [server], ready, () => why, 10_000);
  } catch (e) {
    await server.kill();
    throw e;
  }
  return { address, process: server };
}
