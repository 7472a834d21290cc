/**
 * The store of runs (Jepsen's `store/`): `store/<experiment>/<ISO time>/` holds a run's resolved
 * `config.yaml`, `history.jsonl` (written as the run goes), `history.edn`, `results.json`,
 * `run.log` and each node's log under `nodes/`; `store/latest` and `store/<experiment>/latest`
 * point at the newest run. Reports render from a run folder alone.
 */
import { createWriteStream, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { historyToEdn, opToJson } from '../checkers/history/write.js';
import type { Op } from '../checkers/history/op.js';
import { RUN_FILES, STORE_FILES } from './store-format.js';

/** ISO 8601 basic time, safe in file names: `20261121T101530.123Z`. */
export function storeTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/** One run's folder. */
export class RunStore {
  readonly dir: string;
  readonly #root: string;
  #history: WriteStream | undefined;

  private constructor(root: string, dir: string) {
    this.#root = root;
    this.dir = dir;
  }

  /** Creates `root/<experiment>/<time>/` (a suffix keeps two runs in one millisecond apart). */
  static create(root: string, experiment: string, at: Date = new Date()): RunStore {
    const base = join(root, experiment, storeTime(at));
    for (let i = 0; ; i++) {
      const dir = i === 0 ? base : `${base}-${i}`;
      try {
        mkdirSync(join(root, experiment), { recursive: true });
        mkdirSync(dir);
        return new RunStore(root, dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw e;
      }
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The folder the backend keeps node data dirs and logs in. */
  get nodesDir(): string {
    return this.path(RUN_FILES.nodes);
  }

  writeText(name: string, text: string): void {
    // Write then rename: a reader never sees half a file.
    const tmp = this.path(`.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, this.path(name));
  }

  writeJson(name: string, value: unknown): void {
    this.writeText(name, `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  }

  /** Appends one event to `history.jsonl` as it happens (so a crashed run keeps its history). */
  appendEvent(op: Op): void {
    this.#history ??= createWriteStream(this.path(RUN_FILES.historyJsonl), { flags: 'a' });
    this.#history.write(`${opToJson(op)}\n`);
  }

  /** Flushes `history.jsonl` and writes `history.edn` from the whole history. */
  async finishHistory(history: readonly Op[]): Promise<void> {
    const stream = this.#history;
    this.#history = undefined;
    if (stream) await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    else writeFileSync(this.path(RUN_FILES.historyJsonl), '');
    this.writeText(RUN_FILES.historyEdn, historyToEdn(history));
  }

  /** Points `store/latest` and `store/<experiment>/latest` at this run. */
  markLatest(): void {
    const experimentDir = join(this.dir, '..');
    for (const [linkDir, target] of [
      [this.#root, relative(this.#root, this.dir)],
      [experimentDir, relative(experimentDir, this.dir)],
    ] as const) {
      const link = join(linkDir, STORE_FILES.latest);
      const tmp = join(linkDir, `.latest-${process.pid}`);
      rmSync(tmp, { force: true });
      symlinkSync(target, tmp);
      renameSync(tmp, link);
    }
  }
}
