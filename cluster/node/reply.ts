/**
 * A service's reply, transport-neutral: an HTTP-like status and a JSON body. Services answer with
 * these; the HTTP layer sends them as they are, and the forwarder returns what a peer answered in
 * the same shape.
 */

/** A reply: an HTTP-like status and a JSON body. */
export interface ServiceReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * 503 `unavailable`: the node could not reach the quorum, leader or owner it needs in time.
 * `definite`: the request surely had no effect (nothing was proposed or sent), so a client may
 * record `fail`; otherwise the outcome is unknown.
 */
export function unavailable(message: string, leader: string | null, definite: boolean): ServiceReply {
  return { status: 503, body: { error: 'unavailable', message, leader, definite } };
}
