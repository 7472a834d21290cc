/**
 * The remote mode's {@link RuleShell}: iptables run inside a node's container through the
 * engine's exec API, as root (the container has the NET_ADMIN capability in that mode), from the
 * binaries the remote image carries. Input for `iptables-restore` is handed over by a small
 * Node.js wrapper as an argument (no stdin over the hijacked exec stream, which not every engine
 * transport half-closes). Each call has a deadline.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { engineMessage } from './engine.js';
import { IMAGE_NODE } from './image.js';
import { IMAGE_IPTABLES, IMAGE_IPTABLES_RESTORE } from './remote-image.js';
import type { RuleShell } from './link-rules.js';

/** How long one exec may take, ms. */
const EXEC_TIMEOUT_MS = 15_000;

/** The programs a rule shell runs, by the name link-rules.ts gives them. */
const PROGRAMS: Readonly<Record<string, string>> = { iptables: IMAGE_IPTABLES, 'iptables-restore': IMAGE_IPTABLES_RESTORE };

/** Runs the program in argv[2] with the arguments after it and stdin argv[1], exiting with its status. */
const WITH_INPUT = `const r = require('child_process').spawnSync(process.argv[2], process.argv.slice(3), { input: process.argv[1], stdio: ['pipe', 'inherit', 'inherit'] });
if (r.error) { console.error(r.error.message); process.exit(127); }
process.exit(r.status === null ? 128 : r.status);`;

/** Runs `cmd` in `container` as root; its exit code, stdout and stderr. */
async function execRoot(docker: Docker, container: string, cmd: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: [...cmd], User: '0:0', AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new Error(`exec ${cmd.join(' ')} in ${container}: no end within ${EXEC_TIMEOUT_MS} ms`));
    }, EXEC_TIMEOUT_MS);
    const done = (): void => (clearTimeout(timer), resolve());
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, out: stdout, err: stderr };
}

/** A {@link RuleShell} running iptables in container `container` (its engine id or name) through exec. */
export function execShell(docker: Docker, container: string): RuleShell {
  return async (argv, input) => {
    const [name, ...args] = argv;
    const program = name === undefined ? undefined : PROGRAMS[name];
    if (program === undefined) throw new RangeError(`exec shell: runs iptables and iptables-restore only, not ${String(name)}`);
    const cmd = input === undefined ? [program, ...args] : [IMAGE_NODE, '-e', WITH_INPUT, '--', input, program, ...args];
    let r: { code: number; out: string; err: string };
    try {
      r = await execRoot(docker, container, cmd);
    } catch (e) {
      throw new Error(`exec ${argv.join(' ')} in ${container} failed: ${engineMessage(e)}`);
    }
    if (r.code !== 0) throw new Error(`exec ${argv.join(' ')} in ${container}: ${(r.err || r.out).trim() || `exit ${r.code}`}`);
    return r.out;
  };
}
