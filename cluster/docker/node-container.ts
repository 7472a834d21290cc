/**
 * One node as a container: `node <project>/bin/dsync.js node ...` with the flags the local backend
 * gives, the project bind-mounted read-only at its own path, its data dir and the cluster secret
 * bind-mounted from the run's folder, its port published on 127.0.0.1 for clients, its output
 * appended to `<dir>/<id>.log` (attached before every start, so no line is lost across restarts).
 * Kill, start again from the same data dir, pause and unpause go through the engine.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { fetchStatus, logTail } from '../node-status.js';
import type Docker from 'dockerode';
import { engineMessage, engineStatus } from './engine.js';
import { IMAGE_NODE } from './image.js';

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
  /** The port on 127.0.0.1 that clients reach the node on. */
  readonly hostPort: number;
  /** The `--peers` list (container addresses). */
  readonly peers: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly secretFile: string;
  /** `bin/dsync.js` of this checkout (the same path inside the container). */
  readonly dsyncBin: string;
  /** Host paths mounted read-only at the same path: the project (and its node_modules, if it lives elsewhere). */
  readonly readOnly: readonly string[];
  readonly extraArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A node's container, restartable. */
export class NodeContainer {
  readonly spec: ContainerSpec;
  readonly #docker: Docker;
  readonly #container: Docker.Container;
  #log: WriteStream | undefined;
  /** Settles when the output stream of the latest start has ended. */
  #attached: Promise<void> = Promise.resolve();
  #pid = 0;

  private constructor(docker: Docker, spec: ContainerSpec, container: Docker.Container) {
    this.#docker = docker;
    this.spec = spec;
    this.#container = container;
  }

  /** Creates the container (not started). */
  static async create(docker: Docker, s: ContainerSpec): Promise<NodeContainer> {
    mkdirSync(s.dataDir, { recursive: true });
    const port = `${NODE_PORT}/tcp`;
    const uid = typeof process.getuid === 'function' ? `${process.getuid()}:${process.getgid?.() ?? 0}` : undefined;
    try {
      const container = await docker.createContainer({
        name: s.name,
        Image: s.image,
        Cmd: [IMAGE_NODE, s.dsyncBin, 'node', '--id', s.id, '--listen', `${s.address}:${NODE_PORT}`, '--peers', s.peers, '--data', s.dataDir, '--cluster-secret-file', s.secretFile, ...s.extraArgs],
        Env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
        Labels: { ...s.labels },
        // The files it writes in the store belong to whoever runs the harness.
        ...(uid !== undefined ? { User: uid } : {}),
        WorkingDir: '/tmp',
        ExposedPorts: { [port]: {} },
        HostConfig: {
          Binds: [...s.readOnly.map((p) => `${p}:${p}:ro`), `${s.dataDir}:${s.dataDir}:rw`, `${s.secretFile}:${s.secretFile}:ro`],
          PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: String(s.hostPort) }] },
          NetworkMode: s.network,
        },
        NetworkingConfig: { EndpointsConfig: { [s.network]: { IPAMConfig: { IPv4Address: s.address } } } },
      });
      return new NodeContainer(docker, s, container);
    } catch (e) {
      throw new Error(`creating the container ${s.name} for ${s.id} failed: ${engineMessage(e)}`);
    }
  }

  /** The container's id on the engine. */
  get containerId(): string {
    return this.#container.id;
  }

  /** The pid of its main process on this machine (0 when it is not running). */
  get pid(): number {
    return this.#pid;
  }

  /** Attaches its output to the log file, starts it, and learns its pid. */
  async start(): Promise<void> {
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
      throw new Error(`starting ${this.spec.id} (${this.spec.name}) failed: ${engineMessage(e)}`);
    }
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
        const res = await fetch(`http://127.0.0.1:${this.spec.hostPort}/health`, { signal: AbortSignal.timeout(500) });
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
    return fetchStatus(`http://127.0.0.1:${this.spec.hostPort}`);
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
