/**
 * The lock API's HTTP routes (`/lock/acquire`, `/lock/release`, `/lock/renew`, `GET
 * /lock/{name}`), served by the Raft leader and forwarded to it from any other node, and their
 * part of the OpenAPI document.
 */
import type { z } from 'zod';
import type { LockService } from './lock-service.js';
import type { RequestId } from './sessions.js';
import { MAX_ID_LENGTH } from './commands.js';
import { acquireBody, releaseBody, renewBody, CONTROL } from './lock-schemas.js';
import { decodePathSegment, HttpError, parseJson, readBody, sendJson } from '../node/http-util.js';
import { validate } from '../node/schemas.js';
import { FORWARDED_REQUEST, onLeader, type LeaderRouting, type RoutedRequest } from '../node/leader-routing.js';
import { errorResponses, jsonBody, jsonResponse, ERROR_REF } from '../node/openapi.js';
import type { ServiceReply } from '../node/reply.js';
import type { Handler, Route } from '../node/service.js';
import { FP } from '../failpoints.js';

/** The signal of a forwarded short request: its client cannot go away from here. */
const NEVER = new AbortController().signal;

/** What every write body may carry for exactly-once retries. */
interface SessionFields {
  readonly session?: string | undefined;
  readonly seq?: number | undefined;
}

/** The lock routes over `locks`, served on the leader that `routing` finds. */
export function lockRoutes(locks: LockService, routing: LeaderRouting, bodyLimit: number): Route[] {
  const send = (res: Parameters<Handler>[1], reply: ServiceReply): void => sendJson(res, reply.status, reply.body);

  /**
   * A write route: reads and validates the body with `schema`, then serves it on the leader
   * (forwarding the raw body otherwise) within `waitMs(body)` + the request timeout; `serve` is
   * the same for a request a peer forwarded here (served here or refused, never forwarded again).
   */
  const writeRoute = <S extends z.ZodType<SessionFields>>(
    schema: S,
    what: string,
    waitMs: (b: z.output<S>) => number,
    serve: (b: z.output<S> & { request: RequestId | undefined; clientGone: AbortSignal }) => Promise<ServiceReply>,
  ): Pick<Route, 'handler' | 'serve'> => {
    const answer = (req: RoutedRequest, raw: Buffer, gone: AbortSignal): Promise<ServiceReply> => {
      const b = validate(schema, parseJson(raw), what);
      const request = b.session !== undefined && b.seq !== undefined ? { session: b.session, seq: b.seq } : undefined;
      const wait = waitMs(b);
      return onLeader(req, routing, wait + locks.requestTimeoutMs, raw, () => serve({ ...b, request, clientGone: gone }), wait > 0 ? 'long-poll' : 'short', gone);
    };
    return {
      handler: async (req, res) => {
        const raw = await readBody(req, bodyLimit);
        // The client went away before its answer: a long poll is cancelled, here or on the leader.
        const gone = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        send(res, await answer(req, raw, gone.signal));
      },
      serve: (_param, raw, gone) => answer(FORWARDED_REQUEST, raw, gone ?? NEVER),
    };
  };

  /** The lock name of a `GET /lock/{name}` path segment; 400 naming `name` otherwise. */
  const lockName = (param: string | undefined): string => {
    const name = decodePathSegment(param, 'lock name', 'name');
    if (name.length === 0 || name.length > MAX_ID_LENGTH) {
      throw new HttpError(400, 'bad-request', `name: must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, { field: 'name' });
    }
    if (CONTROL.test(name)) throw new HttpError(400, 'bad-request', 'name: must not contain control characters (U+0000–U+001F, U+007F–U+009F)', { field: 'name' });
    return name;
  };
  const view: Pick<Route, 'handler' | 'serve'> = {
    handler: async (req, res, param) => {
      const name = lockName(param);
      // FAILPOINT lock.read-without-confirm: every node answers reads itself instead of forwarding.
      const where = FP['lock.read-without-confirm'] ? { ...routing, serveHere: true } : routing;
      send(res, await onLeader(req, where, locks.requestTimeoutMs, null, () => locks.view(name)));
    },
    serve: async (param) => {
      const name = lockName(param);
      return onLeader(FORWARDED_REQUEST, routing, locks.requestTimeoutMs, null, () => locks.view(name));
    },
  };

  return [
    { method: 'POST', path: '/lock/acquire', name: 'lock-acquire', ...writeRoute(acquireBody, 'acquire', (b) => b.waitMs, (b) => locks.acquire(b)) },
    { method: 'POST', path: '/lock/release', name: 'lock-release', ...writeRoute(releaseBody, 'release', () => 0, (b) => locks.release(b)) },
    { method: 'POST', path: '/lock/renew', name: 'lock-renew', ...writeRoute(renewBody, 'renew', () => 0, (b) => locks.renew(b)) },
    { method: 'GET', path: '/lock/', name: 'lock-view', ...view },
  ];
}

const grant = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    mode: { enum: ['exclusive', 'shared'] },
    token: { type: 'integer', description: 'fencing token' },
    expiresAt: { type: 'number' },
    secret: { type: 'string', description: 'proof of ownership: release and renew need it; only the acquirer gets it (GET never shows it)' },
  },
};

/** The lock API's OpenAPI paths. */
export function lockOpenApiPaths(): Record<string, unknown> {
  return {
    '/lock/acquire': {
      post: {
        summary: 'Acquire a lock (waits in a FIFO queue up to waitMs)',
        requestBody: jsonBody(acquireBody),
        responses: { '200': jsonResponse('granted', grant), '409': jsonResponse('conflict, deadlock or timeout', ERROR_REF), '429': jsonResponse('limit-exceeded: --max-locks or --max-waiters-per-lock reached', ERROR_REF), ...errorResponses },
      },
    },
    '/lock/release': {
      post: {
        summary: 'Release a held lock (with the secret its acquire answered)',
        requestBody: jsonBody(releaseBody),
        responses: { '200': jsonResponse('released'), '403': jsonResponse('forbidden: no secret, or the wrong one', ERROR_REF), '409': jsonResponse('not-held', ERROR_REF), ...errorResponses },
      },
    },
    '/lock/renew': {
      post: {
        summary: "Renew a holder's lease (with the secret its acquire answered)",
        requestBody: jsonBody(renewBody),
        responses: { '200': jsonResponse('renewed'), '403': jsonResponse('forbidden: no secret, or the wrong one', ERROR_REF), '409': jsonResponse('not-held', ERROR_REF), ...errorResponses },
      },
    },
    '/lock/{name}': {
      get: {
        summary: 'Read a lock (linearizable: ReadIndex on the leader)',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': jsonResponse('the lock: mode, holders, waiters'), ...errorResponses },
      },
    },
  };
}
