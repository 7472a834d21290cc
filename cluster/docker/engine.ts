/**
 * The Docker engine the docker backend talks to: whatever `$DOCKER_HOST` points at (a unix
 * socket, `tcp://` or `ssh://`; `/var/run/docker.sock` when unset), through dockerode only —
 * never the docker CLI. An engine that is absent or does not answer is a {@link DockerUnavailableError}
 * whose message is one line saying what to start and how.
 */
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import { dockerMode, type DockerMode } from './engine-mode.js';

/** The label every container, network and volume of a run carries: `dsync.run=<run id>`. */
export const RUN_LABEL = 'dsync.run';
/** The label naming the folder of a run's nodes (for `dsync clean`'s report and the tests). */
export const DIR_LABEL = 'dsync.dir';
/** The label naming the harness process that made a run's things: `<hostname>:<pid>:<start time>` (see `owner.ts`). */
export const OWNER_LABEL = 'dsync.owner';
/** The label of the images the backend imports (`dsync.image=<content hash>`). */
export const IMAGE_LABEL = 'dsync.image';

/** How long the engine has to answer a ping before it counts as unreachable, ms. */
const PING_TIMEOUT_MS = 5000;

/** No engine answers where `$DOCKER_HOST` points; `message` is one line saying what to start and how. */
export class DockerUnavailableError extends Error {
  readonly code = 'DOCKER_UNAVAILABLE';
  constructor(where: string, why: string) {
    super(
      `no Docker engine answers at ${where} (${why}): start one — as root, \`dockerd --data-root D --exec-root E -H unix:///S --pidfile P &\` ` +
        `(or \`systemctl start docker\`) — and set DOCKER_HOST=unix:///S, or point DOCKER_HOST at a running engine (unix://, tcp://, ssh://)`,
    );
    this.name = 'DockerUnavailableError';
  }
}

/** Where `$DOCKER_HOST` points, as the error messages name it. */
export function engineAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_HOST'] || 'unix:///var/run/docker.sock (DOCKER_HOST is not set)';
}

/**
 * A client of the engine `$DOCKER_HOST` names, once it has answered a ping.
 * @throws DockerUnavailableError when it does not answer within 5 s
 */
export async function connectEngine(): Promise<Docker> {
  let docker: Docker;
  try {
    docker = new Docker();
  } catch (e) {
    throw new DockerUnavailableError(engineAddress(), errorMessage(e));
  }
  try {
    // dockerode takes an abort signal here; its types do not say so.
    const ping = docker.ping.bind(docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = (e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError' ? `no answer within ${PING_TIMEOUT_MS} ms` : (code ?? errorMessage(e));
    throw new DockerUnavailableError(engineAddress(), why);
  }
  return docker;
}

/** The HTTP status of a failed engine call (dockerode puts it on the error), or undefined. */
export function engineStatus(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own words for a failed call (`json.message`), else the error's message. */
export function engineMessage(e: unknown): string {
  const json = (e as { json?: { message?: unknown } } | null)?.json;
  return typeof json?.message === 'string' ? json.message : errorMessage(e);
}

/**
 * The engine `$DOCKER_HOST` names and the mode the backend runs it in, once it answers — and, in
 * the local mode, once it is known to run on this machine (what `dsync run`'s preflight and the
 * backend's start both ask).
 * @throws DockerUnavailableError when it does not answer; Error naming DOCKER_HOST or DSYNC_DOCKER_MODE when malformed, or the engine's machine in the local mode
 */
export async function openEngine(): Promise<{ docker: Docker; mode: DockerMode }> {
  const mode = dockerMode();
  const docker = await connectEngine();
  if (mode.mode !== 'remote') await checkLocalEngine(docker);
  return { docker, mode };
}

/**
 * Throws unless the engine runs on this machine (the local mode's check): the containers bind-mount the project and the
 * store from this file system, clients reach them on this machine's 127.0.0.1, and the partitions
 * are iptables rules applied from here with nsenter — none of which reaches a remote engine.
 */
export async function checkLocalEngine(docker: Docker): Promise<void> {
  const info = (await docker.info()) as { Name?: unknown };
  const name = typeof info.Name === 'string' ? info.Name : '?';
  if (name !== hostname()) {
    throw new Error(
      `the engine at ${engineAddress()} runs on "${name}", not on this machine ("${hostname()}"): the docker backend bind-mounts the project and the store, ` +
        'publishes ports on 127.0.0.1 and applies iptables rules with nsenter in its local mode, which needs an engine on this machine: set DSYNC_DOCKER_MODE=remote (or DOCKER_HOST=tcp://<that host>:<port>) for the remote mode',
    );
  }
}
