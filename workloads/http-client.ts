/**
 * The workloads' HTTP client of the node API: keep-alive connection pools per node, JSON in and
 * out, and the one place where replies and transport errors become Jepsen outcomes:
 *
 * - a 2xx is `ok` with its JSON body (`null` for an empty body, e.g. a 204); a 2xx whose body is
 *   not JSON is `info` at once (it may have taken effect, and its answer is lost);
 * - a 5xx is retried on another node (random, or the chosen one again); it counts as surely
 *   without effect only as {@link isDefinite} says (`unavailable` with `definite: true`);
 * - any other status (409, any other 4xx, …) is `fail` at once: the state machine's definite
 *   answer, or a refusal before anything was done (flagged `earlierMayHaveApplied` when an
 *   earlier attempt may have taken effect);
 * - a request that failed without a reply (a timeout, a reset) is retried; it counts as surely
 *   without effect only when its connection was never made ({@link neverSent});
 * - out of time, an op is `fail` `unavailable` if every attempt surely had no effect, else `info`
 *   `indeterminate: <the last attempt's error>`.
 *
 * Exactly-once retries: a request with a `session` gets the session's next sequence number, and
 * `{session, seq}` is added to its JSON body, the same on every attempt, so the node applies it at
 * most once however many attempts reached it. Attempts back off 20 ms × attempt (at most 200 ms)
 * and none starts with less than 50 ms left before the op's deadline.
 */
import { Pool } from 'undici';
import { isDefinite, neverSent } from '../cluster/api-errors.js';
import { errorMessage } from '../cluster/errors.js';
import { parseJsonReply } from '../cluster/json-reply.js';
import { prng } from '../harness/index.js';

/** The least time worth starting an attempt with: less would only add an ambiguous timeout. */
const MIN_ATTEMPT_MS = 50;

/** The back-off before attempt `attempt` (0 = the first, which does not wait). */
const backoffMs = (attempt: number): number => Math.min(20 * attempt, 200);

/** The HTTP client's options. */
export interface HttpClientOptions {
  /** Seeds the PRNG that picks each attempt's node: the same seed, the same picks. */
  readonly seed: number;
  /** An op's deadline over all its attempts, unless the request sets its own. @default 10000 */
  readonly timeoutMs?: number;
  /** One attempt's deadline, unless the request sets its own. @default 2000 */
  readonly attemptTimeoutMs?: number;
  /**
   * Connections per node. The default is the most client threads an experiment may have, so a
   * run's requests never queue inside the client. @default 1000
   */
  readonly connections?: number;
  /** How long a connection may take to open. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** How long an idle connection is kept open. @default 10000 */
  readonly keepAliveTimeoutMs?: number;
}

/** The methods of the node API. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One op for {@link HttpClient.request}: one request, sent until it has an outcome. */
export interface HttpRequest {
  readonly method: HttpMethod;
  /** The path (and query) after the node's base URL, starting with `/`; path segments percent-encoded by the caller. */
  readonly path: string;
  /** Sent as JSON; no body when absent (and never with GET). */
  readonly body?: unknown;
  /**
   * An exactly-once session: `{session, seq}` (seq: this session's next number) is added to the
   * body, which must then be a JSON object or absent.
   */
  readonly session?: string;
  /** Send every attempt to this node (an endpoint id) rather than to a random one. */
  readonly node?: string;
  /** This op's deadline over all its attempts. @default the client's `timeoutMs` */
  readonly timeoutMs?: number;
  /** One attempt's deadline. @default the client's `attemptTimeoutMs` */
  readonly attemptTimeoutMs?: number;
  /**
   * Retry after an attempt that may have taken effect (a timeout, a reset, a 5xx not definite).
   * Without a session such a retry may apply the request twice, at two different times — for a
   * register write that is a second write of an old value after later ones. `false`: the op is
   * `info` at once. Attempts that surely failed are retried either way. @default true
   */
  readonly retryIndefinite?: boolean;
}

/**
 * The outcome of an op: `ok` (a 2xx), `fail` (surely had no effect: `error` is the reply's error
 * code, `http-<status>` when it has none, or `unavailable` when every attempt surely failed) or
 * `info` (the effect is unknown). `node` is the node of the last attempt, null if none was made.
 */
export type HttpResult =
  | {
      readonly outcome: 'ok';
      readonly status: number;
      /** The reply's JSON object (JSON that is not an object is wrapped as `{value}`); null for an empty body. */
      readonly body: Record<string, unknown> | null;
      readonly node: string;
      readonly attempts: number;
    }
  | {
      readonly outcome: 'fail';
      readonly error: string;
      /** The status of the last reply, if any attempt got one. */
      readonly status?: number;
      /**
       * Set when the last reply refused the request but an earlier attempt may have taken effect
       * (a timeout, a reset, a 5xx not definite). Without a session a retry is not idempotent, so
       * the refusal may answer the effect of that earlier attempt (e.g. an ack whose receipt
       * the first attempt used up); the caller decides whether the op is then `info`.
       */
      readonly earlierMayHaveApplied?: true;
      readonly node: string | null;
      readonly attempts: number;
    }
  | { readonly outcome: 'info'; readonly error: string; readonly node: string | null; readonly attempts: number };

interface Endpoint {
  readonly id: string;
  readonly pool: Pool;
  /** The base URL's path, without its trailing `/`, put before every request's path. */
  readonly prefix: string;
}

/** What one attempt got: a reply, or what was thrown instead. */
type Attempt = { readonly kind: 'reply'; readonly status: number; readonly text: string } | { readonly kind: 'error'; readonly error: unknown };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function positive(what: string, ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`http client: ${what} must be a positive number of ms, got ${ms}`);
  return ms;
}

/** An HTTP client of the node API for all of a workload's processes (see the module doc). */
export class HttpClient {
  readonly #endpoints: readonly Endpoint[];
  readonly #byId: ReadonlyMap<string, Endpoint>;
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #seq = new Map<string, number>();
  #closed = false;

  /** `endpoints`: node id → base URL (`http://127.0.0.1:7001`, or with a path prefix). */
  constructor(endpoints: ReadonlyMap<string, string>, o: HttpClientOptions) {
    if (endpoints.size === 0) throw new RangeError('http client: no endpoints');
    this.#timeoutMs = positive('timeoutMs', o.timeoutMs ?? 10_000);
    this.#attemptTimeoutMs = positive('attemptTimeoutMs', o.attemptTimeoutMs ?? 2000);
    const pool = { connections: o.connections ?? 1000, keepAliveTimeout: o.keepAliveTimeoutMs ?? 10_000, connect: { timeout: o.connectTimeoutMs ?? 1000 } };
    this.#endpoints = [...endpoints].map(([id, base]) => {
      let url: URL;
      try {
        url = new URL(base);
      } catch {
        throw new RangeError(`http client: the base URL of ${id} is not a URL: "${base}"`);
      }
      return { id, pool: new Pool(url.origin, pool), prefix: url.pathname.replace(/\/+$/, '') };
    });
    this.#byId = new Map(this.#endpoints.map((e) => [e.id, e]));
    this.#random = prng(o.seed);
  }

  /**
   * Performs one op: sends the request (to random nodes, or the chosen one) until an attempt
   * decides it or the op's deadline passes. Expected failures are outcomes; it throws only on a
   * bad request (an unknown node, a body with GET, a session without an object body) or after
   * {@link close}.
   */
  async request(req: HttpRequest): Promise<HttpResult> {
    if (this.#closed) throw new Error('http client: closed');
    if (!req.path.startsWith('/')) throw new TypeError(`http client: the path must start with "/": "${req.path}"`);
    const fixed = req.node === undefined ? undefined : this.#byId.get(req.node);
    if (req.node !== undefined && fixed === undefined) throw new RangeError(`http client: unknown node "${req.node}"`);
    if (req.method === 'GET' && (req.body !== undefined || req.session !== undefined)) throw new TypeError(`http client: GET ${req.path} takes no body (nor session)`);
    const attemptTimeoutMs = positive('attemptTimeoutMs', req.attemptTimeoutMs ?? this.#attemptTimeoutMs);
    const timeoutMs = positive('timeoutMs', req.timeoutMs ?? this.#timeoutMs);
    let payload: string | undefined;
    if (req.session !== undefined) {
      const b = req.body ?? {};
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new TypeError(`http client: a session needs a JSON object body, got ${JSON.stringify(b)}`);
      const seq = (this.#seq.get(req.session) ?? 0) + 1;
      this.#seq.set(req.session, seq);
      payload = JSON.stringify({ ...b, session: req.session, seq });
    } else if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
    }
    const deadline = Date.now() + timeoutMs;
    let allDefinite = true;
    let lastError = 'no attempt';
    let lastStatus: number | undefined;
    let node: string | null = null;
    let attempts = 0;
    // Bounded by the deadline: every attempt after the first waits at least 20 ms.
    for (;;) {
      if (attempts > 0) await sleep(backoffMs(attempts));
      if (deadline - Date.now() < MIN_ATTEMPT_MS || this.#closed) break;
      const to = fixed ?? (this.#endpoints[Math.floor(this.#random() * this.#endpoints.length)] as Endpoint);
      node = to.id;
      attempts++;
      const a = await this.#attempt(to, req.method, req.path, payload, Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now())));
      if (a.kind === 'error') {
        if (!neverSent(a.error)) allDefinite = false;
        lastError = errorMessage(a.error);
        if (!allDefinite && req.retryIndefinite === false) break;
        continue;
      }
      lastStatus = a.status;
      if (a.status >= 200 && a.status < 300) {
        if (a.text === '') return { outcome: 'ok', status: a.status, body: null, node, attempts };
        const r = parseJsonReply(a.status, a.text, `node ${node}`);
        if (!r.json) return { outcome: 'info', error: `indeterminate: ${String(r.body['message'])}`, node, attempts };
        return { outcome: 'ok', status: a.status, body: r.body, node, attempts };
      }
      const { body } = parseJsonReply(a.status, a.text, `node ${node}`);
      const code = typeof body['error'] === 'string' ? body['error'] : `http-${a.status}`;
      if (a.status >= 500) {
        if (!isDefinite(a.status, body)) allDefinite = false;
        lastError = code;
        if (!allDefinite && req.retryIndefinite === false) break;
        continue;
      }
      // A definite answer of the state machine (409) or a refusal before anything was done (4xx).
      return { outcome: 'fail', error: code, status: a.status, node, attempts, ...(allDefinite ? {} : { earlierMayHaveApplied: true as const }) };
    }
    return allDefinite
      ? { outcome: 'fail', error: 'unavailable', ...(lastStatus === undefined ? {} : { status: lastStatus }), node, attempts }
      : { outcome: 'info', error: `indeterminate: ${lastError}`, node, attempts };
  }

  async #attempt(to: Endpoint, method: HttpMethod, path: string, payload: string | undefined, timeoutMs: number): Promise<Attempt> {
    try {
      const res = await to.pool.request({
        method,
        path: `${to.prefix}${path}`,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { kind: 'reply', status: res.statusCode, text: await res.body.text() };
    } catch (e) {
      return { kind: 'error', error: e };
    }
  }

  /**
   * Closes every node's connections at once: requests still in flight are abandoned (their ops
   * end as `info`, or `fail` if nothing was ever sent), and the client takes no more requests.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#endpoints.map((e) => e.pool.destroy()));
  }
}
