/**
 * Serving a request on the Raft leader: any node accepts any request; one that is not the leader
 * forwards it there, and retries (within the deadline) while leadership is moving and nothing
 * was applied. A request forwarded to us is never forwarded again.
 */
import type { IncomingMessage } from 'node:http';
import type { RaftNode } from '../raft/raft-node.js';
import { FORWARDED_HEADER, type ForwardKind, type Forwarder } from './forwarder.js';
import { unavailable, type ServiceReply } from './reply.js';

/** What routing to the leader needs. */
export interface LeaderRouting {
  /** This node's id. */
  readonly id: string;
  readonly raft: Pick<RaftNode, 'role' | 'leader' | 'waitForLeader'>;
  readonly forwarder: Forwarder;
  /** Serve on this node whatever its role (only the `--unsafe-grant-without-quorum` test aid). @default false */
  readonly serveHere?: boolean;
}

/** What routing needs of a request: where it goes, and whether a peer forwarded it here. */
export type RoutedRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers'>;

/** Whether a peer forwarded `req` here (over HTTP or its stream): it is served here or refused, never forwarded again. */
export function isForwarded(req: RoutedRequest): boolean {
  return req.headers[FORWARDED_HEADER] !== undefined;
}

/** A request a peer forwarded over its stream (`forward-channel.ts`): served here or refused, never forwarded again. */
export const FORWARDED_REQUEST: RoutedRequest = { method: 'POST', url: '/', headers: { [FORWARDED_HEADER]: 'peer' } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `serve` on the leader, or forwards the request (`body`, the raw body it came with) to it;
 * retries while the answer is a definite 503 and the deadline allows. `kind` is `long-poll` for a
 * request that waits on the leader (it is forwarded over a pool of its own).
 */
export async function onLeader(
  req: RoutedRequest,
  routing: LeaderRouting,
  timeoutMs: number,
  body: Buffer | null,
  serve: () => Promise<ServiceReply>,
  kind: ForwardKind = 'short',
  /** Aborts a forwarded request when the client has gone away, so the leader sees it go too. */
  clientGone?: AbortSignal,
): Promise<ServiceReply> {
  // A monotonic deadline: a wall clock moved by NTP (or a clock fault) must not end or stretch it.
  const deadline = performance.now() + timeoutMs;
  const forwarded = isForwarded(req);
  const { raft } = routing;
  let last: ServiceReply = unavailable('no leader is known', null, true);
  for (let attempt = 0; ; attempt++) {
    const left = deadline - performance.now();
    if (left <= 0) return last;
    if (attempt > 0) await sleep(Math.min(left, 10 * attempt));
    if (raft.role === 'leader' || routing.serveHere) {
      last = await serve();
    } else if (forwarded) {
      return unavailable(`${routing.id} is not the leader`, raft.leader, true);
    } else {
      const leader = raft.leader ?? (await raft.waitForLeader(deadline - performance.now()));
      if (leader === null) return unavailable('no leader is known (no quorum?)', null, true);
      if (leader === routing.id) continue;
      last = await routing.forwarder.forward(leader, req.method === 'GET' ? 'GET' : 'POST', req.url ?? '/', body, deadline - performance.now(), kind, clientGone);
    }
    // A definite 503 is retried — unless the client has gone: no one waits for the answer.
    if (!(last.status === 503 && last.body['definite'] === true) || clientGone?.aborted) return last;
  }
}
