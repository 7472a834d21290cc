/**
 * The node's HTTP routes: the lock API (served by the leader, forwarded to it from any other
 * node), peer RPC under `/internal/raft/*`, and `/health`, `/status`, `/metrics`,
 * `/openapi.json`. Every error is a JSON `{"error", "message"}` with a 4xx/5xx status; nothing
 * a client sends can throw past this module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RaftNode } from '../raft/raft-node.js';
import type { Message } from '../raft/types.js';
import type { z } from 'zod';
import type { LockService, ServiceReply } from '../lock/lock-service.js';
import type { RequestId } from '../lock/sessions.js';
import { unavailable } from '../lock/lock-service.js';
import { HttpError, parseJson, readBody, sendError, sendJson } from './http-util.js';
import { acquireBody, raftMessage, releaseBody, renewBody, validate } from './schemas.js';
import { FORWARDED_HEADER, type Forwarder } from './forwarder.js';
import type { NodeMetrics } from './metrics.js';
import { MAX_ID_LENGTH } from '../lock/commands.js';
import { errorMessage } from '../errors.js';

/** Everything the routes use. */
export interface RouteContext {
  readonly id: string;
  readonly members: ReadonlyMap<string, string>;
  readonly raft: RaftNode;
  readonly locks: LockService;
  readonly forwarder: Forwarder;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly openapi: Record<string, unknown>;
  /** Largest client body. @default 64 KiB */
  readonly bodyLimit: number;
  /** Largest peer RPC body (snapshots travel in one). */
  readonly peerBodyLimit: number;
  /** Serve the lock API on this node, never forwarding (only with `--unsafe-grant-without-quorum`). */
  readonly serveLocksHere?: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext, param: string | undefined) => Promise<void>;

interface Route {
  readonly method: 'GET' | 'POST';
  /** Exact path, or a prefix ending in `/` that captures the rest as `param`. */
  readonly path: string;
  readonly name: string;
  readonly handler: Handler;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function send(res: ServerResponse, reply: ServiceReply): void {
  sendJson(res, reply.status, reply.body);
}

/**
 * Runs `serve` on the leader, or forwards to it; retries (within the deadline) while leadership
 * is moving and nothing was applied. A request forwarded to us is never forwarded again.
 */
async function onLeader(
  req: IncomingMessage,
  ctx: RouteContext,
  timeoutMs: number,
  body: Buffer | null,
  serve: () => Promise<ServiceReply>,
): Promise<ServiceReply> {
  const deadline = Date.now() + timeoutMs;
  const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
  let last: ServiceReply = unavailable('no leader is known', null, true);
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) return last;
    if (attempt > 0) await sleep(Math.min(left, 10 * attempt));
    if (ctx.raft.role === 'leader' || ctx.serveLocksHere) {
      last = await serve();
    } else if (forwarded) {
      return unavailable(`${ctx.id} is not the leader`, ctx.raft.leader, true);
    } else {
      const leader = ctx.raft.leader ?? (await ctx.raft.waitForLeader(deadline - Date.now()));
      if (leader === null) return unavailable('no leader is known (no quorum?)', null, true);
      if (leader === ctx.id) continue;
      last = await ctx.forwarder.forward(leader, req.method === 'GET' ? 'GET' : 'POST', req.url ?? '/', body, deadline - Date.now());
    }
    if (!(last.status === 503 && last.body['definite'] === true)) return last;
  }
}

/** What every write body may carry for exactly-once retries. */
interface SessionFields {
  readonly session?: string | undefined;
  readonly seq?: number | undefined;
}

/**
 * A lock write route: reads and validates the body with `schema`, then serves it on the leader
 * (forwarding the raw body otherwise) within `waitMs(body)` + the request timeout.
 */
function writeRoute<S extends z.ZodType<SessionFields>>(
  schema: S,
  what: string,
  waitMs: (b: z.output<S>) => number,
  serve: (locks: LockService, b: z.output<S> & { request: RequestId | undefined }) => Promise<ServiceReply>,
): Handler {
  return async (req, res, ctx) => {
    const raw = await readBody(req, ctx.bodyLimit);
    const b = validate(schema, parseJson(raw), what);
    const request = b.session !== undefined && b.seq !== undefined ? { session: b.session, seq: b.seq } : undefined;
    send(res, await onLeader(req, ctx, waitMs(b) + ctx.locks.requestTimeoutMs, raw, () => serve(ctx.locks, { ...b, request })));
  };
}

const acquire = writeRoute(acquireBody, 'acquire', (b) => b.waitMs, (locks, b) => locks.acquire(b));
const release = writeRoute(releaseBody, 'release', () => 0, (locks, b) => locks.release(b));
const renew = writeRoute(renewBody, 'renew', () => 0, (locks, b) => locks.renew(b));

const view: Handler = async (req, res, ctx, param) => {
  let name: string;
  try {
    name = decodeURIComponent(param ?? '');
  } catch {
    throw new HttpError(400, 'bad-request', 'the lock name in the path is not valid percent-encoding', { field: 'name' });
  }
  if (name.length === 0 || name.length > MAX_ID_LENGTH) {
    throw new HttpError(400, 'bad-request', `name: must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, { field: 'name' });
  }
  send(res, await onLeader(req, ctx, ctx.locks.requestTimeoutMs, null, () => ctx.locks.view(name)));
};

/**
 * A peer's message stream: newline-delimited JSON, stepped as each line arrives. A bad line ends
 * the stream with a 400 (the peer reconnects); the node goes on serving.
 */
const raftStream: Handler = (req, res, ctx) =>
  new Promise<void>((resolve) => {
    req.setEncoding('utf8');
    let partial = '';
    let failed = false;
    const fail = (e: HttpError): void => {
      failed = true;
      req.removeAllListeners('data');
      req.resume();
      sendError(res, e);
      resolve();
    };
    req.on('data', (chunk: string) => {
      if (failed) return;
      const nl = chunk.lastIndexOf('\n');
      if (nl < 0) {
        partial += chunk; // a long line (a snapshot) arriving in pieces: look for its end in new chunks only
        if (partial.length > ctx.peerBodyLimit) fail(new HttpError(413, 'too-large', `a raft message line is over ${ctx.peerBodyLimit} bytes`));
        return;
      }
      const lines = (partial + chunk.slice(0, nl)).split('\n');
      partial = chunk.slice(nl + 1);
      for (const line of lines) {
        if (line.length === 0) continue;
        let m: Message;
        try {
          let json: unknown;
          try {
            json = JSON.parse(line);
          } catch (e) {
            throw new HttpError(400, 'bad-request', `a raft message line is not valid JSON: ${(e as Error).message}`);
          }
          m = validate(raftMessage, json, 'raft message') as Message;
        } catch (e) {
          return fail(e instanceof HttpError ? e : new HttpError(400, 'bad-request', String(e)));
        }
        ctx.raft.step(m);
      }
    });
    req.on('end', () => {
      if (failed) return;
      res.writeHead(204).end();
      resolve();
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  });

const health: Handler = async (_req, res, ctx) => sendJson(res, 200, { ok: true, id: ctx.id });

const status: Handler = async (_req, res, ctx) => {
  const s = ctx.raft.status();
  sendJson(res, 200, {
    ...s,
    leaderAddress: s.leader === null ? null : (ctx.members.get(s.leader) ?? null),
    members: Object.fromEntries(ctx.members),
  });
};

const metrics: Handler = async (_req, res, ctx) => {
  const text = await ctx.metrics.registry.metrics();
  res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType }).end(text);
};

const openapi: Handler = async (_req, res, ctx) => sendJson(res, 200, ctx.openapi);

const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/lock/acquire', name: 'lock-acquire', handler: acquire },
  { method: 'POST', path: '/lock/release', name: 'lock-release', handler: release },
  { method: 'POST', path: '/lock/renew', name: 'lock-renew', handler: renew },
  { method: 'GET', path: '/lock/', name: 'lock-view', handler: view },
  { method: 'POST', path: '/internal/raft/stream', name: 'raft-stream', handler: raftStream },
  { method: 'GET', path: '/health', name: 'health', handler: health },
  { method: 'GET', path: '/status', name: 'status', handler: status },
  { method: 'GET', path: '/metrics', name: 'metrics', handler: metrics },
  { method: 'GET', path: '/openapi.json', name: 'openapi', handler: openapi },
];

function match(path: string): { routes: Route[]; param: string | undefined } {
  const exact = ROUTES.filter((r) => r.path === path);
  if (exact.length > 0) return { routes: exact, param: undefined };
  const prefixed = ROUTES.filter((r) => r.path.endsWith('/') && path.startsWith(r.path) && path.length > r.path.length && !path.slice(r.path.length).includes('/'));
  return { routes: prefixed, param: prefixed.length > 0 ? path.slice((prefixed[0] as Route).path.length) : undefined };
}

/** The request listener of a node's HTTP server. */
export function requestListener(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const { routes, param } = match(path);
    const route = routes.find((r) => r.method === req.method);
    const name = route?.name ?? 'unknown';
    const observeDuration = ctx.metrics.httpDuration.startTimer({ route: name });
    res.on('finish', () => {
      ctx.metrics.httpRequests.inc({ route: name, status: String(res.statusCode) });
      observeDuration();
    });
    if (!route) {
      req.resume();
      if (routes.length > 0) {
        const allow = routes.map((r) => r.method).join(', ');
        sendJson(res, 405, { error: 'method-not-allowed', message: `${req.method ?? '?'} ${path}: allowed ${allow}` }, { allow });
      } else {
        sendJson(res, 404, { error: 'not-found', message: `no route ${req.method ?? '?'} ${path}` });
      }
      return;
    }
    route.handler(req, res, ctx, param).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        if (e.status === 413) req.resume();
        sendError(res, e);
        return;
      }
      ctx.log.error({ err: e, route: name }, 'request failed');
      sendJson(res, 500, { error: 'internal', message: errorMessage(e) });
    });
  };
}
