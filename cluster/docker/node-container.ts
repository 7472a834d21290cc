/**
 * One node as a container: `node <project>/bin/dsync.js node ...` with the flags the local backend
 * gives, its output appended to `<dir>/<id>.log` on this machine (attached through the engine
 * before every start, so no line is lost across restarts). Its files are placed one of two ways:
 * in the local mode the project is bind-mounted read-only at its own path, the data dir and the
 * cluster secret are bind mounts from the run's folder, and the port is published on 127.0.0.1;
 * in the remote mode the project is in the image, the data dir is a volume with the run's labels,
 * the secret comes in the environment, the port is published on the engine's host and the
 * container may change its iptables (NET_ADMIN). Kill, start again from the same data dir, pause
 * and unpause go through the engine.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { fetchStatus, logTail } from '../node-status.js';
import type Docker from 'dockerode';
import { engineMessage, engineStatus } from './engine.js';
import { IMAGE_NODE } from './image.js';
import { CLUSTER_SECRET_ENV } from '../node/peer-auth.js';

/** The port every node listens on inside its container. */
export const NODE_PORT = 7000;

/** How to run one node in a container. */
export interface ContainerSpec {
  readonly id: string;
  /** The container's name, e.g. `dsync-3f9c0a12-n1`. */
  readonly name: string;
  /** The image tag (`dsync-node:<hash>`). */
  readonly image: string;
  /** The run's network and this node's fixed address on it. */
  readonly network: string;
  readonly address: string;
  /** The port on the engine's host that clients reach the node on. */
  readonly hostPort: number;
  /** Where clients reach the published port: `127.0.0.1` for an engine on this machine, else the engine's host. */
  readonly clientHost: string;
  /** The `--peers` list (container addresses). */
  readonly peers: string;
  readonly logFile: string;
  /** Where the node's files come from. */
  readonly placement: NodePlacement;
  /**
   * Another port to publish on, for when the first start finds `hostPort` taken on the engine's
   * host (a remote engine: no port there can be checked beforehand). @default none: such a start fails
   */
  readonly otherPort?: () => number;
  readonly extraArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** The local mode's placement: bind mounts of this machine. */
export interface BindPlacement {
  readonly kind: 'bind';
  /** The data dir in the run's folder (the same path inside the container). */
  readonly dataDir: string;
  readonly secretFile: string;
  /** `bin/dsync.js` of this checkout (the same path inside the container). */
  readonly dsyncBin: string;
  /** Host paths mounted read-only at the same path: the project (and its node_modules, if it lives elsewhere). */
  readonly readOnly: readonly string[];
}

/** The remote mode's placement: the project in the image, the data dir a volume of the engine. */
export interface VolumePlacement {
  readonly kind: 'volume';
  /** The volume's name (made on first use, with the container's labels). */
  readonly volume: string;
  /** Where it is mounted: the node's data dir. */
  readonly dataDir: string;
  /** The cluster secret (given as `$DSYNC_CLUSTER_SECRET`). */
  readonly secret: string;
  /** `bin/dsync.js` in the image. */
  readonly dsyncBin: string;
}

export type NodePlacement = BindPlacement | VolumePlacement;

/** A port taken on the engine's host, as the engine says it when a start fails. */
const PORT_TAKEN = /port is already allocated|address already in use/i;
/** How many ports a first start tries before it gives up. */
const PORT_TRIES = 5;

/** The engine's create options for `s`, publishing `hostPort`. */
function createOptions(s: ContainerSpec, hostPort: number): Docker.ContainerCreateOptions {
  const port = `${NODE_PORT}/tcp`;
  const p = s.placement;
  const base = [IMAGE_NODE, p.dsyncBin, 'node', '--id', s.id, '--listen', `${s.address}:${NODE_PORT}`, '--peers', s.peers, '--data', p.dataDir];
  const env = Object.entries(s.env).map(([k, v]) => `${k}=${v}`);
  const common = {
    name: s.name,
    Image: s.image,
    Labels: { ...s.labels },
    WorkingDir: '/tmp',
    ExposedPorts: { [port]: {} },
    NetworkingConfig: { EndpointsConfig: { [s.network]: { IPAMConfig: { IPv4Address: s.address } } } },
  };
  switch (p.kind) {
    case 'bind': {
      const uid = typeof process.getuid === 'function' ? `${process.getuid()}:${process.getgid?.() ?? 0}` : undefined;
      return {
        ...common,
        Cmd: [...base, '--cluster-secret-file', p.secretFile, ...s.extraArgs],
        Env: env,
        // The files it writes in the store belong to whoever runs the harness.
        ...(uid !== undefined ? { User: uid } : {}),
        HostConfig: {
          Binds: [...p.readOnly.map((m) => `${m}:${m}:ro`), `${p.dataDir}:${p.dataDir}:rw`, `${p.secretFile}:${p.secretFile}:ro`],
          PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
          NetworkMode: s.network,
        },
      };
    }
    case 'volume':
      return {
        ...common,
        Cmd: [...base, ...s.extraArgs],
        Env: [...env, `${CLUSTER_SECRET_ENV}=${p.secret}`],
        HostConfig: {
          Mounts: [{ Type: 'volume', Source: p.volume, Target: p.dataDir, VolumeOptions: { NoCopy: false, Labels: { ...s.labels }, DriverConfig: { Name: 'local', Options: {} } } }],
          // Published on every address of the engine's host: this machine is not that host.
          PortBindings: { [port]: [{ HostIp: '', HostPort: String(hostPort) }] },
          NetworkMode: s.network,
          // The partitions' iptables rules are applied inside the container (exec-shell.ts).
          CapAdd: ['NET_ADMIN'],
        },
      };
    default: {
      const never: never = p;
      throw new Error(`unknown placement ${JSON.stringify(never)}`);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A node's container, restartable. */
export class NodeContainer {
  readonly spec: ContainerSpec;
  readonly #docker: Docker;
  #container: Docker.Container;
  #hostPort: number;
  /** How many times it was started (each start makes a new network namespace). */
  #starts = 0;
  #log: WriteStream | undefined;
  /** Settles when the output stream of the latest start has ended. */
  #attached: Promise<void> = Promise.resolve();
  #pid = 0;

  private constructor(docker: Docker, spec: ContainerSpec, container: Docker.Container) {
    this.#docker = docker;
    this.spec = spec;
    this.#container = container;
    this.#hostPort = spec.hostPort;
  }

  /** Creates the container (not started). */
  static async create(docker: Docker, s: ContainerSpec): Promise<NodeContainer> {
    if (s.placement.kind === 'bind') mkdirSync(s.placement.dataDir, { recursive: true });
    return new NodeContainer(docker, s, await NodeContainer.#create(docker, s, s.hostPort));
  }

  static async #create(docker: Docker, s: ContainerSpec, hostPort: number): Promise<Docker.Container> {
    try {
      return await docker.createContainer(createOptions(s, hostPort));
    } catch (e) {
      throw new Error(`creating the container ${s.name} for ${s.id} failed: ${engineMessage(e)}`);
    }
  }

  /** The port clients reach it on, on {@link ContainerSpec.clientHost}. */
  get hostPort(): number {
    return this.#hostPort;
  }

  /** `http://<client host>:<port>`. */
  get url(): string {
    return `http://${this.spec.clientHost.includes(':') ? `[${this.spec.clientHost}]` : this.spec.clientHost}:${this.#hostPort}`;
  }

  /** How many times it was started: a new number means a new network namespace. */
  get starts(): number {
    return this.#starts;
  }

  /** The container's id on the engine. */
  get containerId(): string {
    return this.#container.id;
  }

  /** The pid of its main process on the engine's machine (0 when it is not running): this machine's in the local mode. */
  get pid(): number {
    return this.#pid;
  }

  /** Removes the container that never started and makes it again, publishing `hostPort`. */
  async #recreate(hostPort: number): Promise<void> {
    await this.#container.remove({ force: true, v: true }).catch(() => undefined);
    this.#container = await NodeContainer.#create(this.#docker, this.spec, hostPort);
    this.#hostPort = hostPort;
  }

  /** Attaches its output to the log file, starts it, and learns its pid (on the engine's machine). */
  async start(tries = 1): Promise<void> {
    if (!this.#log) {
      this.#log = createWriteStream(this.spec.logFile, { flags: 'a' });
      // A log that cannot be written must not take the harness down; the node runs on.
      this.#log.on('error', () => undefined);
    }
    const log = this.#log;
    const stream = await this.#container.attach({ stream: true, stdout: true, stderr: true });
    this.#attached = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    this.#docker.modem.demuxStream(stream, log, log);
    try {
      await this.#container.start();
    } catch (e) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      if (this.#starts === 0 && this.spec.otherPort !== undefined && PORT_TAKEN.test(engineMessage(e)) && tries < PORT_TRIES) {
        await this.#recreate(this.spec.otherPort());
        return this.start(tries + 1);
      }
      throw new Error(`starting ${this.spec.id} (${this.spec.name}) failed: ${engineMessage(e)}`);
    }
    this.#starts++;
    const info = await this.#container.inspect();
    this.#pid = info.State.Pid;
  }

  /** Whether the engine says it is running (paused counts as running). */
  async running(): Promise<boolean> {
    return (await this.#container.inspect()).State.Running;
  }

  /** Resolves once `/health` answers 200; rejects after `timeoutMs`, or at once if the container stopped. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; Date.now() < deadline; i++) {
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not listening yet (or the port's proxy has no one behind it yet)
      }
      if (i % 10 === 9 && !(await this.running())) throw new Error(`${this.spec.id} exited before it was healthy: ${this.logTail(1)} (see ${this.spec.logFile})`);
      await sleep(50);
    }
    throw new Error(`${this.spec.id} not healthy within ${timeoutMs} ms; see ${this.spec.logFile}`);
  }

  /** SIGKILL through the engine; resolves once it has stopped. No-op when it is not running. */
  async kill(timeoutMs = 10_000): Promise<void> {
    try {
      await this.#container.kill({ signal: 'SIGKILL' });
    } catch (e) {
      if (engineStatus(e) !== 409) throw new Error(`killing ${this.spec.id} failed: ${engineMessage(e)}`);
      // 409: it is not running.
    }
    const deadline = Date.now() + timeoutMs;
    while (await this.running()) {
      if (Date.now() > deadline) throw new Error(`${this.spec.id} still running ${timeoutMs} ms after SIGKILL`);
      await sleep(20);
    }
    this.#pid = 0;
  }

  /** Freezes every process of the container (the freezer cgroup). */
  async pause(): Promise<void> {
    await this.#container.pause();
  }

  /** Thaws it. */
  async unpause(): Promise<void> {
    await this.#container.unpause();
  }

  /** Its `/status` answer, or null when it does not answer within a second. */
  status(): Promise<Record<string, unknown> | null> {
    return fetchStatus(this.url);
  }

  /** The last `n` lines of its log, joined with ` | ` (for error messages). */
  logTail(n = 3): string {
    return logTail(this.spec.logFile, n);
  }

  /** Removes the container (killing it if it runs) and closes its log. Safe to call twice. */
  async remove(): Promise<void> {
    try {
      await this.#container.remove({ force: true, v: true });
    } catch (e) {
      if (engineStatus(e) !== 404) throw new Error(`removing ${this.spec.name} failed: ${engineMessage(e)}`);
    } finally {
      this.#pid = 0;
      const log = this.#log;
      this.#log = undefined;
      // The last lines first: the output stream ends once the container is gone.
      await Promise.race([this.#attached, sleep(2000)]);
      if (log) await new Promise<void>((r) => log.end(r));
    }
  }
}
