/**
 * What every `dsync bench` command needs around its targets: a scratch folder (a fresh one under
 * the OS temp dir unless `--dir` names one) and Ctrl-C handling — on SIGINT/SIGTERM the target
 * running now is stopped, the fresh folder removed, and the process exits 130.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Output } from '../check-command.js';
import { errorMessage } from '../../cluster/errors.js';

/** A target a signal must stop. */
export interface Stoppable {
  readonly label: string;
  stop(): Promise<void>;
}

/** A bench command's scratch folder and signal handling. */
export interface BenchScratch {
  /** The folder the targets keep their data in. */
  readonly root: string;
  /** A signal arrived: the command returns 130 at its next check. */
  readonly interrupted: boolean;
  /** The target running now, stopped if a signal comes (undefined between targets). */
  active: Stoppable | undefined;
  /** Stops listening for signals; removes the folder if it was made here (and no signal is removing it). */
  close(): Promise<void>;
}

/** Sets up the scratch folder and signal handling of `dsync bench <name>`. */
export async function benchScratch(name: string, dir: string | undefined, io: Output): Promise<BenchScratch> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'dsync-bench-')));
  const removeRoot = (): Promise<void> | undefined => (dir === undefined ? rm(root, { recursive: true, force: true }) : undefined);
  const scratch = {
    root,
    interrupted: false,
    active: undefined as Stoppable | undefined,
    close: async (): Promise<void> => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!scratch.interrupted) await removeRoot();
    },
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (scratch.interrupted) return;
    scratch.interrupted = true;
    const active = scratch.active;
    io.err(`dsync bench ${name}: ${signal}: stopping ${active?.label ?? 'the benchmark'}`);
    void (active?.stop() ?? Promise.resolve())
      .catch((e: unknown) => io.err(`dsync bench ${name}: stopping ${active?.label ?? ''} failed: ${errorMessage(e)}`))
      .then(removeRoot)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return scratch;
}
