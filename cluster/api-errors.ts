/**
 * The node API's error codes in one table (Maelstrom's error table): each code's HTTP status,
 * whether it is *definite* — the request surely had no effect, so a client records `fail` — or
 * not (the effect is unknown → `info`), and what it means. Clients read this table; the node's
 * responses use these codes.
 */

/** One error code of the node's API. */
export interface ApiErrorCode {
  readonly code: string;
  readonly status: number;
  /** The request surely had no effect. `unavailable` is decided per response (its `definite` field). */
  readonly definite: boolean | 'per-response';
  readonly doc: string;
}

const TABLE: readonly ApiErrorCode[] = [
  { code: 'bad-request', status: 400, definite: true, doc: 'malformed input; the message names the field' },
  { code: 'not-found', status: 404, definite: true, doc: 'no such route' },
  { code: 'method-not-allowed', status: 405, definite: true, doc: 'the route exists with another method' },
  { code: 'conflict', status: 409, definite: true, doc: 'the lock is held in a conflicting mode (try-acquire), or the request is older than the session\'s last, or reuses a session\'s seq for another request' },
  { code: 'deadlock', status: 409, definite: true, doc: 'waiting would close a cycle in the wait-for graph; the youngest waiter fails' },
  { code: 'timeout', status: 409, definite: true, doc: 'a blocking acquire waited waitMs without a grant, and was withdrawn' },
  { code: 'forbidden', status: 403, definite: true, doc: 'release/renew without the secret the grant was answered with (or with another one)' },
  { code: 'not-held', status: 409, definite: true, doc: 'release/renew of a lock this client does not hold with this token' },
  { code: 'request-timeout', status: 408, definite: true, doc: 'the request body did not end within the body timeout (--body-timeout-ms); the connection is closed' },
  { code: 'too-large', status: 413, definite: true, doc: 'the body is over the limit' },
  { code: 'limit-exceeded', status: 429, definite: true, doc: 'a node limit was reached (`limit` names it: max-locks, max-waiters-per-lock, max-queue-messages); nothing was proposed' },
  { code: 'internal', status: 500, definite: false, doc: 'a bug in the node' },
  { code: 'bad-gateway', status: 502, definite: false, doc: 'the leader answered a forwarded request with something unreadable' },
  { code: 'unavailable', status: 503, definite: 'per-response', doc: 'no quorum or leader within the deadline; `definite: true` when the command was surely not applied' },
  { code: 'store-unavailable', status: 503, definite: 'per-response', doc: "the cache's main memory could not be read or written; `definite: true` for a read" },
  { code: 'home-moved', status: 503, definite: 'per-response', doc: "the cache key's home changed during the request (a home fail-over); `definite: true` when main memory refused the old home and nothing was done; try again" },
];

/** The error table, by code. */
export const API_ERRORS: ReadonlyMap<string, ApiErrorCode> = new Map(TABLE.map((e) => [e.code, e]));

/**
 * Whether an error response surely had no effect: from the table, or from the body's own
 * `definite` field for `unavailable`. Unknown codes are not definite (a client must assume the
 * worst), except 4xx statuses, which the node sends only before doing anything.
 */
export function isDefinite(status: number, body: { readonly error?: unknown; readonly definite?: unknown }): boolean {
  const entry = typeof body.error === 'string' ? API_ERRORS.get(body.error) : undefined;
  if (entry === undefined) return status >= 400 && status < 500;
  if (entry.definite === 'per-response') return body.definite === true;
  return entry.definite;
}

/** Error codes of a connection that was never made: Node's connect errors, undici's connect timeout. */
const NOT_CONNECTED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether a request that failed without a reply surely had no effect: its connection was never
 * made (refused, unreachable, or undici's connect timeout), so nothing was sent. Anything else
 * thrown — a timeout, a reset, a socket closed mid-reply — may have come after the node read the
 * request.
 */
export function neverSent(e: unknown): boolean {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && NOT_CONNECTED.has(code);
}
