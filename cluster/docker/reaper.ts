/**
 * The run's reaper: a small process the docker backend starts (detached, in a session of its own,
 * so a Ctrl-C to the harness's process group does not reach it) with a pipe from the harness on
 * its stdin. When the harness ends normally it writes `done` and the reaper exits; when the pipe
 * closes without it — the harness was killed outright (kill -9, a second Ctrl-C, a crash) — the
 * reaper removes everything with the run's label, so no container outlives its harness.
 *
 * `node reaper.js <run id>`, with $DOCKER_HOST as the harness had it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the harness writes when it has torn the run down itself. */
const DONE = 'done';

/** The harness's end of a reaper. */
export interface Reaper {
  /** Tells the reaper the run was torn down: it exits without touching the engine. */
  release(): void;
}

/**
 * Starts the reaper of run `runId`. It does not keep this process alive, and it dies with
 * nothing to do when {@link Reaper.release} is called.
 */
export function startReaper(runId: string): Reaper {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), runId], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: process.env,
  });
  child.unref();
  // The pipe must not keep the harness alive either; it closes when the harness exits.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.stdin.on('error', () => undefined);
  return {
    release: () => {
      if (child.stdin.writable) child.stdin.end(`${DONE}\n`);
    },
  };
}

/** The reaper's own main: waits for the pipe to close, then sweeps the run unless it was told `done`. */
async function reap(runId: string): Promise<void> {
  let input = '';
  process.stdin.on('data', (d: Buffer) => (input += d.toString()));
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.on('error', () => resolve());
  });
  if (input.split('\n').includes(DONE)) return;
  const { connectEngine } = await import('./engine.js');
  const { removeRun } = await import('./leftovers.js');
  // A few tries: the engine may be busy with the very containers being killed.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const r = await removeRun(await connectEngine(), runId);
      if (r.left.length === 0) return;
    } catch {
      // try again
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runId = process.argv[2];
  if (runId === undefined || !/^[0-9a-f]+$/.test(runId)) process.exit(2);
  void reap(runId).finally(() => process.exit(0));
}
