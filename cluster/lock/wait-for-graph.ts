/**
 * Deadlock detection: a search for cycles in the wait-for graph of a lock table.
 *
 * The nodes are clients. A client W waiting for lock L has an edge to every holder of L, and to
 * every waiter ahead of it in L's queue whose mode conflicts with W's (either is exclusive).
 * Only waiting clients have edges, so every client on a cycle is waiting.
 *
 * The search follows only the edges to holders. It still finds a cycle exactly when the whole
 * graph has one: edges between the waiters of a queue point only ahead, so a cycle that enters
 * L's queue leaves it through some holder of L, and the waiter where it entered has an edge to
 * that holder too — a shortcut giving a cycle of holder edges only, through a subset of the
 * same clients. This keeps the cost of a search linear in the number of holders it meets rather
 * than quadratic in the length of the queues.
 */
import type { LockEntry } from './state.js';

/**
 * A cycle of the wait-for graph reachable from `roots`, as the clients along it (each waits for
 * a lock the next one holds, the last for one the first holds), or `undefined` when there is
 * none.
 *
 * `locks` and `waiting` (client → the lock it waits for) are the table's state. The search is
 * depth-first and visits each client once, in an order fixed by the roots and the holders'
 * grant order, so every replica finds the same cycle.
 */
export function findCycle(
  roots: Iterable<string>,
  locks: ReadonlyMap<string, LockEntry>,
  waiting: ReadonlyMap<string, string>,
): string[] | undefined {
  // Once the search has finished with every holder of a lock (without finding a cycle), the
  // other waiters of that lock have nothing new to offer: their successors are those finished
  // holders. Skipping them keeps a search from many waiters of one lock linear.
  const settled = new Set<string>();
  function* successors(client: string): Generator<string> {
    const name = waiting.get(client);
    if (name === undefined || settled.has(name)) return;
    for (const h of locks.get(name)?.holders ?? []) yield h.client;
    settled.add(name);
  }

  const finished = new Set<string>();
  for (const root of roots) {
    if (finished.has(root)) continue;
    // The search path, and each client's position on it.
    const path: { client: string; next: Generator<string> }[] = [{ client: root, next: successors(root) }];
    const onPath = new Map<string, number>([[root, 0]]);
    while (path.length > 0) {
      const top = path[path.length - 1] as (typeof path)[number];
      const step = top.next.next();
      if (step.done) {
        path.pop();
        onPath.delete(top.client);
        finished.add(top.client);
        continue;
      }
      const c = step.value;
      const at = onPath.get(c);
      if (at !== undefined) return path.slice(at).map((p) => p.client);
      if (finished.has(c)) continue;
      onPath.set(c, path.length);
      path.push({ client: c, next: successors(c) });
    }
  }
  return undefined;
}
