/**
 * Helpers of the docker-backend tests: the engine if one answers (else the reason to skip, or a
 * failure when `DSYNC_REQUIRE_DOCKER=1` says CI started one), a command run inside a container
 * through the engine (exec), a TCP connect probe from one container to another, and what the
 * engine still lists with a label.
 */
import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { connectEngine, DIR_LABEL } from '../../cluster/docker/engine.js';
import { IMAGE_NODE } from '../../cluster/docker/image.js';
import { errorMessage } from '../../cluster/errors.js';

/** Set by CI where it started an engine: the docker tests then fail instead of skipping. */
export const REQUIRE_DOCKER_ENV = 'DSYNC_REQUIRE_DOCKER';

/**
 * The engine at `$DOCKER_HOST` for a `before` hook, or — when none answers — the suite skipped
 * with the reason printed (failed instead when `DSYNC_REQUIRE_DOCKER=1`).
 */
export async function engineOrSkip(ctx: Mocha.Context): Promise<Docker> {
  try {
    return await connectEngine();
  } catch (e) {
    if (process.env[REQUIRE_DOCKER_ENV] === '1') throw new Error(`${REQUIRE_DOCKER_ENV}=1 but ${errorMessage(e)}`);
    console.log(`      skipped (no Docker engine): ${errorMessage(e)}`);
    ctx.skip();
  }
}

/** Runs `cmd` in `container` through the engine; its exit code and output. */
export async function execIn(docker: Docker, container: string, cmd: readonly string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  let out = '';
  sink.on('data', (d: Buffer) => (out += d.toString()));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${cmd.join(' ')} in ${container}: no end within ${timeoutMs} ms`)), timeoutMs);
    stream.on('end', () => (clearTimeout(timer), resolve()));
    stream.on('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, out: out.trim() };
}

/** What a TCP connect from inside a container did within `timeoutMs`. */
export type ConnectOutcome = 'connected' | 'timeout' | 'refused' | 'error';

/** Opens a TCP connection from inside `container` to `host:port` (Node.js in the container, nothing else needed). */
export async function connectFrom(docker: Docker, container: string, host: string, port: number, timeoutMs = 2000): Promise<ConnectOutcome> {
  const script = `const s = require('net').connect({ host: ${JSON.stringify(host)}, port: ${port} });
const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, ${timeoutMs});
s.on('connect', () => { console.log('connected'); s.destroy(); clearTimeout(t); });
s.on('error', (e) => { console.log(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code); clearTimeout(t); });`;
  const r = await execIn(docker, container, [IMAGE_NODE, '-e', script], timeoutMs + 10_000);
  const word = r.out.split(/\s+/)[0] ?? '';
  return (['connected', 'timeout', 'refused'].includes(word) ? word : 'error') as ConnectOutcome;
}

/** The names of the containers and networks the engine lists whose `dsync.dir` label starts with `dirPrefix`. */
export async function labelledUnder(docker: Docker, dirPrefix: string): Promise<string[]> {
  const filters = { label: [DIR_LABEL] };
  const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
  return [
    ...containers.filter((c) => (c.Labels[DIR_LABEL] ?? '').startsWith(dirPrefix)).map((c) => `container ${c.Names[0] ?? c.Id}`),
    ...networks.filter((n) => (n.Labels?.[DIR_LABEL] ?? '').startsWith(dirPrefix)).map((n) => `network ${n.Name}`),
  ];
}
