/**
 * How the docker backend uses its engine: `local` (the engine runs on this machine — the project
 * and the store are bind mounts, ports are published on 127.0.0.1, partitions are applied with
 * nsenter) or `remote` (the engine may be anywhere — the project is in the image, data dirs are
 * volumes, ports are published on the engine's host, partitions are applied inside each container
 * through the engine's exec API). Chosen from `$DOCKER_HOST` (auto: remote for a `tcp://` or
 * `ssh://` address whose host is not this machine), or forced with `$DSYNC_DOCKER_MODE`.
 * Decided without touching the network, so that experiments can be checked when they are loaded.
 */
import { hostname, networkInterfaces } from 'node:os';

/** The variable that forces a mode: `local`, `remote` or `auto` (the default). */
export const DOCKER_MODE_ENV = 'DSYNC_DOCKER_MODE';

/** The modes. */
export const DOCKER_MODES = ['local', 'remote'] as const;
export type DockerModeName = (typeof DOCKER_MODES)[number];

/** The mode the backend runs in, and where clients reach the published ports. */
export interface DockerMode {
  readonly mode: DockerModeName;
  /** The host of the engine's published ports as clients on this machine reach it: `127.0.0.1` for a local engine. */
  readonly engineHost: string;
  /** Whether `engineHost` is this machine (a unix socket, a loopback or own address). */
  readonly engineIsLocal: boolean;
  /** One clause saying why, for the run log. */
  readonly why: string;
}

/** This machine's own names and addresses (loopback included). */
function ownHosts(): Set<string> {
  const own = new Set(['localhost', '::1', hostname().toLowerCase()]);
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) own.add(a.address.toLowerCase());
  return own;
}

/** Whether `host` names this machine. */
export function isThisMachine(host: string, own: ReadonlySet<string> = ownHosts()): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return /^127\./.test(h) || own.has(h);
}

/**
 * The engine's host as `$DOCKER_HOST` names it: null for a unix socket (or when unset, the
 * default socket), the host of a `tcp://`, `http(s)://` or `ssh://[user@]host[:port]` address.
 * @throws RangeError naming DOCKER_HOST when it is neither
 */
export function engineHostOf(dockerHost: string | undefined): string | null {
  if (dockerHost === undefined || dockerHost === '' || dockerHost.startsWith('unix://') || dockerHost.startsWith('npipe://')) return null;
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw new RangeError(`DOCKER_HOST=${dockerHost}: not an address (unix:///path, tcp://host:port or ssh://[user@]host)`);
  }
  if (!['tcp:', 'http:', 'https:', 'ssh:'].includes(url.protocol) || url.hostname === '') {
    throw new RangeError(`DOCKER_HOST=${dockerHost}: not an address (unix:///path, tcp://host:port or ssh://[user@]host)`);
  }
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * The mode for `env` (`$DOCKER_HOST`, `$DSYNC_DOCKER_MODE`).
 * @throws RangeError naming the variable when either holds something else than it takes
 */
export function dockerMode(env: NodeJS.ProcessEnv = process.env, own: ReadonlySet<string> = ownHosts()): DockerMode {
  const forced = env[DOCKER_MODE_ENV] ?? '';
  if (!['', 'auto', ...DOCKER_MODES].includes(forced)) throw new RangeError(`${DOCKER_MODE_ENV}=${forced}: expected local, remote or auto`);
  const host = engineHostOf(env['DOCKER_HOST']);
  const local = host === null || isThisMachine(host, own);
  const engineHost = local ? '127.0.0.1' : host;
  if (forced === 'local' || forced === 'remote') return { mode: forced, engineHost, engineIsLocal: local, why: `${DOCKER_MODE_ENV}=${forced}` };
  return local
    ? { mode: 'local', engineHost, engineIsLocal: true, why: host === null ? 'DOCKER_HOST is a unix socket' : `DOCKER_HOST's host ${host} is this machine` }
    : { mode: 'remote', engineHost, engineIsLocal: false, why: `DOCKER_HOST's host ${host} is not this machine` };
}
