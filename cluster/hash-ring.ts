/**
^ * The consistent-hash ring of the queue and the cache (Karger et al.; Dynamo's preference lists): every member
 * owns `vnodes` points on a 32-bit circle (xxHash32 of `<id>#<i>`), a queue name hashes to a
 * point, and its **preference list** is the first `replication` distinct members met walking
 * clockwise from there; the first is its **owner**. Adding or removing a member moves only the
 * names whose arcs it takes or gives up (≈ 1/n of them).
 *
 * Deterministic: every node builds the same ring from the same member list, so they agree on
 * every placement without talking.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

/** Points per member. @default */
export const DEFAULT_VNODES = 128;

let api: XXHashAPI | undefined;

/** The hash functions (a WebAssembly module, instantiated once per process). */
export async function loadHash(): Promise<XXHashAPI> {
  return (api ??= await xxhash());
}

interface Point {
  readonly at: number;
  readonly member: string;
}

/** A ring over a fixed member list. Build it with {@link HashRing.create}. */
export class HashRing {
  readonly members: readonly string[];
  readonly vnodes: number;
  readonly replication: number;
  readonly #points: readonly Point[];
  readonly #hash: (s: string) => number;

  private constructor(members: readonly string[], vnodes: number, replication: number, hash: (s: string) => number) {
    this.members = members;
    this.vnodes = vnodes;
    this.replication = replication;
    this.#hash = hash;
    const points: Point[] = [];
    for (const member of members) for (let i = 0; i < vnodes; i++) points.push({ at: hash(`${member}#${i}`), member });
    // Ties (a 32-bit collision) are broken by member id, so every node orders them alike.
    points.sort((a, b) => a.at - b.at || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    this.#points = points;
  }

  /**
   * A ring over `members` with `vnodes` points each and preference lists of
   * `min(replication, members)` members.
   * @throws RangeError for no members, a repeated member, or counts that are not positive integers
   */
  static async create(members: readonly string[], o: { vnodes?: number; replication?: number } = {}): Promise<HashRing> {
    const vnodes = o.vnodes ?? DEFAULT_VNODES;
    const replication = o.replication ?? 3;
    if (members.length === 0) throw new RangeError('a ring needs at least one member');
    if (new Set(members).size !== members.length) throw new RangeError(`a ring's members must be distinct, got ${members.join(', ')}`);
    if (!Number.isSafeInteger(vnodes) || vnodes < 1 || vnodes > 4096) throw new RangeError(`vnodes must be an integer in 1..4096, got ${vnodes}`);
    if (!Number.isSafeInteger(replication) || replication < 1) throw new RangeError(`replication must be a positive integer, got ${replication}`);
    const { h32 } = await loadHash();
    return new HashRing([...members], vnodes, Math.min(replication, members.length), (s) => h32(s, 0));
  }

  /** Where `name` hashes to on the circle. */
  position(name: string): number {
    return this.#hash(name);
  }

  /** The index of the first point at or after `at` (wrapping to 0). */
  #successor(at: number): number {
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as Point).at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  /** The preference list from point index `start`: the first `replication` distinct members clockwise. */
  #listFrom(start: number): string[] {
    const list: string[] = [];
    const points = this.#points;
    for (let k = 0; k < points.length && list.length < this.replication; k++) {
      const member = (points[(start + k) % points.length] as Point).member;
      if (!list.includes(member)) list.push(member);
    }
    return list;
  }

  /** The preference list of `name`: its owner first, then its replicas in ring order. */
  preferenceList(name: string): string[] {
    return this.#listFrom(this.#successor(this.position(name)));
  }

  /** The owner of `name` (the first of its preference list). */
  owner(name: string): string {
    return this.preferenceList(name)[0] as string;
  }

  /**
   * Every distinct member set of a preference list on the ring (sorted ids), each once: the
   * replica groups a queue can land in. With replication ≥ members there is one, everyone.
   */
  replicaSets(): string[][] {
    const seen = new Map<string, string[]>();
    for (let i = 0; i < this.#points.length; i++) {
      const set = this.#listFrom(i).sort();
      const key = set.join('\n');
      if (!seen.has(key)) seen.set(key, set);
    }
    return [...seen.values()].sort((a, b) => (a.join('\n') < b.join('\n') ? -1 : 1));
  }

  /** How the ring looks for `/status`: members, points per member, replication, the share of the circle each member owns. */
  describe(): { members: string[]; vnodes: number; replication: number; ownership: Record<string, number> } {
    const span = 2 ** 32;
    const share = new Map<string, number>(this.members.map((m) => [m, 0]));
    const points = this.#points;
    for (let i = 0; i < points.length; i++) {
      // A name hashing into (previous point, this point] belongs to this point's member.
      const p = points[i] as Point;
      const prev = (points[(i - 1 + points.length) % points.length] as Point).at;
      const arc = points.length === 1 ? span : (p.at - prev + span) % span;
      share.set(p.member, (share.get(p.member) ?? 0) + arc);
    }
    return {
      members: [...this.members],
      vnodes: this.vnodes,
      replication: this.replication,
      ownership: Object.fromEntries([...share].map(([m, s]) => [m, Math.round((s / span) * 10_000) / 10_000])),
    };
  }
}
