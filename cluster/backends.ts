/**
 * The cluster backends by name (the `backend:` of an experiment, `dsync run --backend`): each
 * starts a cluster of `dsync node`s and returns it as a {@link ClusterBackend}. `dsync run` and
 * the experiment schema know backends only through this registry: adding one is a folder in
 * `cluster/` and one {@link registerBackend} line below.
 */
import type { ClusterBackend, LinkFault } from './backend.js';
import { LocalBackend } from './local/local-backend.js';
import { dockerCannot } from './docker/docker-support.js';
import { Registry } from './registry.js';

/** A structured line for the run log: a message and its fields. */
export type BackendLog = (msg: string, fields?: Record<string, unknown>) => void;

/** What every backend is started with. */
export interface BackendStartOptions {
  /** Number of nodes (1, 3 or 5 usually). */
  readonly nodes: number;
  /** Folder for the nodes' data dirs and logs (`<id>/`, `<id>.log`). */
  readonly dir: string;
  /** Extra `dsync node` flags for every node, e.g. `['--tick-ms', '10']`. */
  readonly nodeArgs: readonly string[];
  /**
   * Start the nodes with clocks the nemesis can move (a `ClockControl`); a backend that
   * cannot throws, naming what is missing. @default false
   */
  readonly clockFaults?: boolean;
  /** More environment variables for every node (on top of the harness's own), e.g. `{DSYNC_LOSE_UNSYNCED: '1'}`. */
  readonly nodeEnv?: Readonly<Record<string, string>>;
  /** Where the backend says what it did (the run log): images, start-up times, rules. @default nowhere */
  readonly log?: BackendLog;
}

/**
 * Something an experiment will ask of its backend, known when it is loaded: a kind of link fault
 * (partitions are `blackhole`), clocks the nemesis can move, or nodes that reach the redis-server
 * the harness starts on this machine's 127.0.0.1.
 */
export type BackendNeed =
  | { readonly kind: 'link-fault'; readonly fault: LinkFault['kind'] }
  | { readonly kind: 'clock-faults' }
  | { readonly kind: 'host-redis' };

/** A backend as the registry knows it. */
export interface BackendDefinition {
  readonly name: string;
  /** One line: what it runs nodes as. */
  readonly describe: string;
  /** Starts the nodes; resolves once each answers `/health`. Releases what it started if it fails. */
  start(o: BackendStartOptions): Promise<ClusterBackend>;
  /**
   * Why it cannot meet `need` (one sentence, for the experiment's error), or null when it can;
   * experiments are checked with it when they are loaded. @default it can meet every need
   */
  cannot?(need: BackendNeed): string | null;
  /**
   * Checks, before a run makes its store folder, that the backend can start on this machine
   * (e.g. that its engine answers). @throws an Error whose message is one line saying what to do
   */
  preflight?(): Promise<void>;
}

const registry = new Registry<BackendDefinition>('backend');

/**
 * Adds a backend to the registry (tests add fakes).
 * @throws RangeError when the name is taken
 */
export const registerBackend = (def: BackendDefinition): void => registry.register(def);

/** Removes a backend from the registry (for tests that registered one); true if it was there. */
export const unregisterBackend = (name: string): boolean => registry.unregister(name);

/** The registered backends' names, in registration order. */
export const backendNames = (): readonly string[] => registry.names();

/**
 * The backend registered as `name`.
 * @throws RangeError naming the registered ones
 */
export const backendDefinition = (name: string): BackendDefinition => registry.get(name);

registerBackend({
  name: 'local',
  describe: 'child processes on 127.0.0.1, peer links through harness-owned TCP proxies',
  start: (o) => LocalBackend.start(o),
});

registerBackend({
  name: 'docker',
  describe: 'one container per node (the engine at $DOCKER_HOST) on a private bridge network; partitions are iptables rules in the containers',
  cannot: dockerCannot,
  // dockerode is loaded only when the backend is used.
  preflight: async () => {
    await (await import('./docker/engine.js')).openEngine();
  },
  start: async (o) => (await import('./docker/docker-backend.js')).DockerBackend.start(o),
});
