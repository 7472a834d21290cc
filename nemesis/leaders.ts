/**
 * Leaders from the nodes' own views, for targets that must work while the nodes disagree (during
 * a partition, or right after one heals): the quorum leader — the leader of the majority side —
 * and a minority leader — a node that still believes it leads but has no majority behind it.
 * Pure functions of the views, so they are tested without a cluster.
 */
import type { LeaderView } from '../cluster/backend.js';

/**
 * The quorum leader: the node that a majority of all `members` (itself included) names as leader
 * in the same term, in the highest such term; null if there is none. The leader must be among the
 * answering nodes and name itself: a majority still following a dead leader names nobody to hit.
 */
export function quorumLeader(views: readonly LeaderView[], members: number): string | null {
  const quorum = Math.floor(members / 2) + 1;
  const votes = new Map<string, { leader: string; term: number; count: number }>();
  for (const v of views) {
    if (v.leader === null) continue;
    const key = `${v.term}/${v.leader}`;
    const c = votes.get(key) ?? { leader: v.leader, term: v.term, count: 0 };
    c.count++;
    votes.set(key, c);
  }
  let best: { leader: string; term: number } | null = null;
  for (const c of votes.values()) {
    if (c.count < quorum) continue;
    const self = views.find((v) => v.node === c.leader);
    if (!self || self.leader !== c.leader || self.term !== c.term) continue;
    if (best === null || c.term > best.term) best = c;
  }
  return best?.leader ?? null;
}

/**
 * A minority leader: a node that believes it leads (names itself as leader) but is not the quorum
 * leader — typically the old leader cut off on the minority side. The one in the highest term if
 * several; null if there is none.
 */
export function minorityLeader(views: readonly LeaderView[], members: number): string | null {
  const majority = quorumLeader(views, members);
  const self = views.filter((v) => v.leader === v.node && v.node !== majority).sort((a, b) => b.term - a.term);
  return self[0]?.node ?? null;
}
