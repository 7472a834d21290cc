/**
 * Where each queue lives, from the ring (`ring.ts`): its preference list (owner first) and its
 * replica group — the Raft group of the members of that list, named after their sorted ids.
 * Every node computes the same placement from the same member list.
 */
import { randomBytes } from 'node:crypto';
import { HashRing, loadHash } from '../hash-ring.js';

/** A replica group: its name (a route segment and a folder) and members (sorted ids). */
export interface ReplicaGroup {
  readonly group: string;
  readonly members: readonly string[];
}

/** The placement of queues over a ring. Build it with {@link QueuePlacement.create}. */
export class QueuePlacement {
  readonly ring: HashRing;
  /** Every replica group of the ring. */
  readonly groups: readonly ReplicaGroup[];
  readonly #byKey: ReadonlyMap<string, ReplicaGroup>;
  readonly #idPrefix: string;
  #idSeq = 0;

  private constructor(ring: HashRing, groups: readonly ReplicaGroup[], idPrefix: string) {
    this.ring = ring;
    this.groups = groups;
    this.#byKey = new Map(groups.map((g) => [g.members.join('\n'), g]));
    this.#idPrefix = idPrefix;
  }

  /**
   * The placement over `members` (`vnodes` points each, `replication` replicas per queue); ids
   * generated here start with `self`.
   * @throws RangeError for a bad ring, or two groups whose names collide
   */
  static async create(members: readonly string[], self: string, o: { vnodes?: number; replication?: number } = {}): Promise<QueuePlacement> {
    const ring = await HashRing.create(members, o);
    const { h64ToString } = await loadHash();
    const groups = ring.replicaSets().map((set) => ({ group: `q-${h64ToString(set.join('\n'))}`, members: set }));
    const names = new Set(groups.map((g) => g.group));
    if (names.size !== groups.length) throw new RangeError(`two replica groups hash to one name over members ${members.join(', ')}; rename a member`);
    // Unique across restarts without a counter on disk: a random prefix per process.
    const tag = self.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 64);
    return new QueuePlacement(ring, groups, `${tag}-${randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`);
  }

  /** The preference list of `queue`, owner first. */
  preferenceList(queue: string): string[] {
    return this.ring.preferenceList(queue);
  }

  /** The replica group of `queue`. */
  group(queue: string): ReplicaGroup {
    const key = [...this.ring.preferenceList(queue)].sort().join('\n');
    const g = this.#byKey.get(key);
    if (g === undefined) throw new Error(`no replica group for ${key.replace(/\n/g, ',')} (the ring and its groups disagree)`);
    return g;
  }

  /** A fresh message id for an enqueue that named none: unique across nodes and restarts. */
  newId(): string {
    return `${this.#idPrefix}.${(++this.#idSeq).toString(36)}`;
  }
}
