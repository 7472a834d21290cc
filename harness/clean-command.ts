/**
 * `dsync clean`: removes every container, network and volume that runs on the docker backend
 * left on the engine at `$DOCKER_HOST` (they carry the `dsync.run` label), and says what it
 * removed, one line each. A run tears down what it made by itself; this is for what a harness
 * that was killed outright (kill -9, a second Ctrl-C) could not. The things of a run whose harness
 * is still alive on this machine are kept (named), unless `--all`. Exit 0 when everything found was
 * removed (or nothing was found), 3 when the engine does not answer or something could not go.
 */
import type { Command } from 'commander';
import { EXIT_CODES } from '../checkers/index.js';
import { errorMessage } from '../cluster/errors.js';
import type { Output } from './check-command.js';

/** Runs `dsync clean`; resolves to its exit code. */
export async function cleanCommand(io: Output, o: { all?: boolean } = {}): Promise<number> {
  // dockerode is loaded only by the commands that talk to the engine.
  const { connectEngine, RUN_LABEL } = await import('../cluster/docker/engine.js');
  const { findLeftovers, removeLeftovers } = await import('../cluster/docker/leftovers.js');
  try {
    const docker = await connectEngine();
    const all = await findLeftovers(docker, RUN_LABEL);
    // A run in progress (its harness is alive here) is not left over, unless --all.
    const found = o.all ? all : all.filter((l) => !l.live);
    const kept = new Set(all.filter((l) => !found.includes(l)).map((l) => l.run));
    for (const run of kept) io.out(`kept run ${run}: its harness is still running on this machine (--all removes it too)`);
    if (found.length === 0) {
      io.out('dsync clean: nothing to remove (no container, network or volume with the dsync.run label)');
      return EXIT_CODES.valid;
    }
    const sweep = await removeLeftovers(docker, found);
    for (const l of sweep.removed) io.out(`removed ${l.kind} ${l.name} (run ${l.run}, ${l.dir})`);
    for (const l of sweep.failed) io.err(`dsync clean: could not remove ${l.kind} ${l.name} (run ${l.run}): ${l.error}`);
    const count = (kind: string): string => {
      const n = sweep.removed.filter((l) => l.kind === kind).length;
      return `${n} ${kind}${n === 1 ? '' : 's'}`;
    };
    io.out(`dsync clean: removed ${count('container')}, ${count('network')}, ${count('volume')}${sweep.failed.length > 0 ? `; ${sweep.failed.length} could not be removed` : ''}`);
    return sweep.failed.length > 0 ? EXIT_CODES.error : EXIT_CODES.valid;
  } catch (e) {
    io.err(`dsync clean: ${errorMessage(e)}`);
    return EXIT_CODES.error;
  }
}

/** Registers `clean` on the program; `setCode` receives the exit code. */
export function registerCleanCommand(program: Command, setCode: (code: number) => void, io: Output): void {
  program
    .command('clean')
    .description('remove the containers, networks and volumes that docker-backend runs left behind (by their dsync.run label) on the engine at $DOCKER_HOST')
    .option('--all', 'also remove the things of runs whose harness is still running on this machine')
    .action(async (flags: { all?: boolean }) => {
      setCode(await cleanCommand(io, flags));
    });
}
