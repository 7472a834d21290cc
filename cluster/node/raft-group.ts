/**
 * Raft groups of a service beside the node's own: a service that replicates part of its state
 * among a subset of the members (the queue: one group per preference list of its hash ring)
 * asks the node for a group by name, members and state machine. Each group has its own storage
 * (`<data dir>/groups/<name>/`, the same format, fsync and recovery as the node's log), its own
 * Raft timers, and its own authenticated peer stream per member
 * (`POST /internal/raft/group/<name>`, `routes.ts`); the node stops them after its services.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { RaftStorage } from '../raft/storage.js';
import type { FileIo } from '../raft/file-io.js';
import { RaftNode, type RaftNodeOptions, type RaftObserver, type StateMachine } from '../raft/raft-node.js';
import { GROUP_STREAM_PREFIX, PeerStreamTransport } from './peer-stream.js';

/** A group's name: path- and file-safe, so it can name a folder and a route segment. */
export const GROUP_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What a service asks for. */
export interface RaftGroupSpec {
  /** Unique among the node's groups; matches {@link GROUP_NAME}. */
  readonly name: string;
  /** The group's members (this node among them); every member must be one of the node's. */
  readonly members: readonly string[];
  readonly machine: StateMachine;
  /** What the service wants to hear of the group (role changes, applied entries). */
  readonly observer?: Pick<RaftObserver, 'roleChanged' | 'applied'>;
}

/** Opens a Raft group for a service (see {@link RaftGroups.open}). */
export type OpenRaftGroup = (spec: RaftGroupSpec) => Promise<RaftNode>;

/** The Raft timing and batching every group of a node shares with its own group. */
export interface RaftGroupTiming {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEvery: number;
  readonly maxEntriesPerMessage?: number | undefined;
  readonly maxInflight?: number | undefined;
}

/** A Raft node's timing options from {@link RaftGroupTiming}. */
export function timingOptions(t: RaftGroupTiming): Pick<RaftNodeOptions, 'tickMs' | 'electionTicks' | 'heartbeatTicks' | 'snapshotEvery' | 'maxEntriesPerMessage' | 'maxInflight'> {
  return {
    tickMs: t.tickMs,
    electionTicks: t.electionTicks,
    heartbeatTicks: t.heartbeatTicks,
    snapshotEvery: t.snapshotEvery,
    ...(t.maxEntriesPerMessage !== undefined ? { maxEntriesPerMessage: t.maxEntriesPerMessage } : {}),
    ...(t.maxInflight !== undefined ? { maxInflight: t.maxInflight } : {}),
  };
}

/** What the node gives its groups. */
export interface RaftGroupsOptions {
  readonly self: string;
  /** Every member of the node: id → host:port. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly secret: Buffer | null;
  readonly dataDir: string;
  readonly io: FileIo;
  readonly log: Logger;
  readonly timing: RaftGroupTiming;
  /** A group's disk refused a write: the node stops as it does for its own group. */
  readonly onFatal: (err: Error) => void;
}

interface OpenGroup {
  readonly raft: RaftNode;
  readonly transport: PeerStreamTransport;
}

/** The services' Raft groups of one node. */
export class RaftGroups {
  readonly #o: RaftGroupsOptions;
  readonly #groups = new Map<string, OpenGroup>();
  /** The groups' Raft nodes by name, for the stream route. */
  readonly byName = new Map<string, RaftNode>();

  constructor(o: RaftGroupsOptions) {
    this.#o = o;
  }

  /**
   * Opens (recovering from its folder) and starts the group `spec.name`.
   * @throws RangeError for a bad name, a name in use, or members that are not the node's
   */
  async open(spec: RaftGroupSpec): Promise<RaftNode> {
    const o = this.#o;
    if (!GROUP_NAME.test(spec.name)) throw new RangeError(`raft group name "${spec.name}": expected ${GROUP_NAME.source}`);
    if (this.#groups.has(spec.name)) throw new RangeError(`raft group "${spec.name}" is already open`);
    if (!spec.members.includes(o.self)) throw new RangeError(`raft group "${spec.name}" does not list this node (${o.self})`);
    const stranger = spec.members.find((m) => !o.addresses.has(m));
    if (stranger !== undefined) throw new RangeError(`raft group "${spec.name}": "${stranger}" is not a member of the node's cluster`);
    const log = o.log.child({ group: spec.name });
    const { storage, recovered } = await RaftStorage.open(join(o.dataDir, 'groups', spec.name), { preallocateBytes: 1 << 20, io: o.io });
    for (const note of recovered.repaired) log.warn({ note }, 'raft group: data dir repaired on open');
    const addresses = new Map([...o.addresses].filter(([id]) => spec.members.includes(id)));
    const transport = new PeerStreamTransport(addresses, o.self, o.secret, (peer, err) => log.warn({ peer, err: err.message }, 'raft group: peer unreachable'), GROUP_STREAM_PREFIX + spec.name);
    const raft = new RaftNode({
      id: o.self,
      members: [...spec.members],
      storage,
      recovered,
      transport,
      machine: spec.machine,
      ...timingOptions(o.timing),
      observer: {
        roleChanged: (role, term, leader) => {
          log.info({ role, term, leader }, 'raft group role');
          spec.observer?.roleChanged?.(role, term, leader);
        },
        ...(spec.observer?.applied ? { applied: spec.observer.applied } : {}),
        snapshotTaken: (index, s) => log.info({ index, ms: Math.round(s * 1000) }, 'raft group: snapshot taken, log compacted'),
        snapshotInstalled: (index) => log.info({ index }, 'raft group: snapshot installed from the leader'),
        rejected: (err, m) => log.warn({ err: err.message, from: m.from, type: m.type }, 'raft group: peer message refused'),
        applyFailed: (err, e) => log.error({ err: err.message, index: e.index, term: e.term }, 'raft group: a committed entry could not be applied; skipped'),
        fatal: (err) => {
          log.fatal({ err }, 'raft group stopped: the disk refused a write; restart the node to recover from its data dir');
          o.onFatal(err);
        },
      },
    });
    log.info({ members: spec.members, term: recovered.hard.term, snapshot: recovered.snapshot?.meta.index ?? 0, entries: recovered.entries.length }, 'raft group recovered');
    this.#groups.set(spec.name, { raft, transport });
    this.byName.set(spec.name, raft);
    return raft;
  }

  /** Stops every group (their Ready in progress, their storage) and closes their streams. */
  async close(): Promise<void> {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    this.byName.clear();
    await Promise.all(groups.map((g) => g.raft.stop()));
    await Promise.all(groups.map((g) => g.transport.close()));
  }
}
