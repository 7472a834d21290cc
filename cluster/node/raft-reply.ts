/**
 * What the services on Raft (the lock manager, the queue) share when they wait on their Raft
 * node: a deadline on a promise, and the reply for a proposal or read that failed.
 */
import { NotLeaderError, StoppedError } from '../raft/raft-node.js';
import { errorMessage } from '../errors.js';
import { unavailable, type ServiceReply } from './reply.js';

class Timeout extends Error {}

/**
 * Waits for `p` until `deadline` (a `performance.now()` time — monotonic, so a wall clock that
 * jumps neither ends nor stretches it): true if it settled in time. `p`'s rejection propagates.
 */
export async function settledBy(deadline: number, p: Promise<unknown>): Promise<boolean> {
  const ms = deadline - performance.now();
  if (ms <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Timeout()), ms)))]);
    return true;
  } catch (e) {
    if (e instanceof Timeout) return false;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The reply for a proposal or read that the Raft node refused or dropped: 503 (definite when
 * this node is not the leader, or when it stopped and `proposedNothing`), 500 for anything else.
 */
export function raftFailure(e: unknown, proposedNothing: boolean): ServiceReply {
  if (e instanceof NotLeaderError) return unavailable(e.message, e.leader, true);
  if (e instanceof StoppedError) return unavailable(e.message, null, proposedNothing);
  return { status: 500, body: { error: 'internal', message: errorMessage(e) } };
}
