/**
 * The node's HTTP routes: its own — peer RPC under `/internal/raft/*` (authenticated, see
 * `peer-auth.ts`; a stream for the node's Raft group and one per service group), and `/health`, `/status`,
 * `/metrics`, `/openapi.json` — and every service's (see `service.ts`), behind one request
 * listener. Every error is a JSON `{"error", "message"}` with a 4xx/5xx status; nothing a client
 * sends can throw past this module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { RaftNode } from '../raft/raft-node.js';
import type { Message } from '../raft/types.js';
import { z } from 'zod';
import { HttpError, sendError, sendJson } from './http-util.js';
import { PEER_FROM_HEADER, type PeerAuthenticator } from './peer-auth.js';
import { FORWARD_STREAM_PATH, type ForwardChannel, type FindServe } from './forward-channel.js';
import { GROUP_STREAM_PREFIX, MAX_PEER_LINE_CHARS, MAX_PEER_MESSAGE_CHARS, RAFT_STREAM_PATH } from './peer-stream.js';
import { exemptFromBodyTimeout } from './http-bounds.js';
import { raftMessage, validate } from './schemas.js';
import type { NodeMetrics } from './metrics.js';
import type { Handler, NodeService, Route } from './service.js';
import { errorMessage } from '../errors.js';
import { enabledFailpoints } from '../failpoints.js';

/** What the node's own routes use. */
export interface NodeRouteContext {
  readonly id: string;
  readonly members: ReadonlyMap<string, string>;
  readonly raft: RaftNode;
  /** The services' Raft groups by name (`raft-group.ts`), each with a stream route of its own. */
  readonly groups: ReadonlyMap<string, RaftNode>;
  readonly services: readonly NodeService[];
  readonly metrics: NodeMetrics;
  readonly openapi: Record<string, unknown>;
  /** Checks who opens a peer stream. */
  readonly auth: PeerAuthenticator;
  /** Serves the requests peers forward over their streams. */
  readonly forwarding: Pick<ForwardChannel, 'sink'>;
  readonly log: Logger;
  /** The storage loses unsynced writes at a crash (`DSYNC_LOSE_UNSYNCED`, a test aid). @default false */
  readonly loseUnsynced?: boolean;
}

/** A `part` line: a piece of a message too long for one line (see `peer-stream.ts`). */
const partLine = z.strictObject({ type: z.literal('part'), data: z.string(), last: z.literal(true).optional() });

/** The 413 that ends a stream with a line longer than {@link MAX_PEER_LINE_CHARS}. */
const lineTooLong = (): HttpError => new HttpError(413, 'too-large', `a raft message line is over the limit of ${MAX_PEER_LINE_CHARS} characters`);

/**
 * Where a peer stream's messages go, once its peer is authenticated: `message` takes each
 * message (parsed JSON, joined from `part` lines) and throws an `HttpError` to refuse it, which
 * ends the stream; `end` is told when the stream ends, however it ends.
 */
export interface PeerSink {
  message(json: unknown): void;
  end?(): void;
}

/**
 * A peer's message stream: newline-delimited JSON, handed to its sink as each line arrives.
 * Refused with a 404 when `open` knows no sink for the route's parameter, and with a 401 before
 * its body is read unless the peer proves it holds the cluster secret (`peer-auth.ts`). A
 * malformed line, one over {@link MAX_PEER_LINE_CHARS} (413), or a message the sink refuses ends
 * the stream with that status (the peer reconnects). Each refusal is logged; the node goes on
 * serving and nothing refused reaches the sink's owner.
 */
const peerStream = (ctx: NodeRouteContext, what: string, open: (param: string | undefined) => ((peer: string) => PeerSink) | undefined): Handler => (req, res, param) =>
  new Promise<void>((resolve) => {
    const sinkFor = open(param);
    if (sinkFor === undefined) {
      sendJson(res, 404, { error: 'not-found', message: `no ${what} group "${param ?? ''}" on ${ctx.id}` }, { connection: 'close' });
      return resolve();
    }
    const auth = ctx.auth.check(req.headers);
    if (!auth.ok) {
      ctx.log.warn({ peer: req.headers[PEER_FROM_HEADER], remote: req.socket.remoteAddress, why: auth.message }, 'peer stream refused: not authenticated');
      // The body is never read: the connection closes after the answer.
      sendJson(res, 401, { error: 'unauthorized', message: auth.message }, { connection: 'close' });
      return resolve();
    }
    const peer = auth.from;
    const sink = sinkFor(peer);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      sink.end?.();
      resolve();
    };
    exemptFromBodyTimeout(req);
    req.setEncoding('utf8');
    let partial = '';
    let joined: string[] = [];
    let joinedChars = 0;
    let failed = false;
    const fail = (e: HttpError): void => {
      failed = true;
      ctx.log.warn({ peer, status: e.status, err: e.message }, 'peer stream refused');
      req.removeAllListeners('data');
      req.resume();
      // The rest of the stream is not read: the connection closes after the answer.
      sendError(res, e, { connection: 'close' });
      end();
    };
    /** The message a line completes, or null while `part` lines are still coming. */
    const message = (line: string): unknown => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (e) {
        throw new HttpError(400, 'bad-request', `a ${what} message line is not valid JSON: ${(e as Error).message}`);
      }
      if (typeof json === 'object' && json !== null && (json as { type?: unknown }).type === 'part') {
        const part = validate(partLine, json, `${what} message part`);
        joinedChars += part.data.length;
        if (joinedChars > MAX_PEER_MESSAGE_CHARS) throw new HttpError(413, 'too-large', `a ${what} message is over the limit of ${MAX_PEER_MESSAGE_CHARS} characters`);
        joined.push(part.data);
        if (part.last !== true) return null;
        const whole = joined.join('');
        joined = [];
        joinedChars = 0;
        return message(whole);
      }
      return json;
    };
    req.on('data', (chunk: string) => {
      if (failed) return;
      const nl = chunk.lastIndexOf('\n');
      if (nl < 0) {
        partial += chunk; // a long line arriving in pieces: look for its end in new chunks only
        if (partial.length > MAX_PEER_LINE_CHARS) fail(lineTooLong());
        return;
      }
      const lines = (partial + chunk.slice(0, nl)).split('\n');
      partial = chunk.slice(nl + 1);
      for (const line of lines) {
        if (line.length === 0) continue;
        try {
          if (line.length > MAX_PEER_LINE_CHARS) throw lineTooLong();
          const m = message(line);
          if (m !== null) sink.message(m);
        } catch (e) {
          return fail(e instanceof HttpError ? e : new HttpError(400, 'bad-request', String(e)));
        }
      }
      if (partial.length > MAX_PEER_LINE_CHARS) fail(lineTooLong());
    });
    req.on('end', () => {
      if (failed) return;
      res.writeHead(204).end();
      end();
    });
    req.on('error', end);
    req.on('close', end);
  });

/**
 * The sink of a Raft group's stream: every message must come `from` the authenticated member and
 * be addressed to this node (403/400 otherwise) and pass validation; then Raft steps it.
 */
const raftSink =
  (ctx: NodeRouteContext, raft: RaftNode) =>
  (peer: string): PeerSink => ({
    message(json) {
      const m = validate(raftMessage, json, 'raft message') as Message;
      if (m.from !== peer) throw new HttpError(403, 'forbidden', `a raft message from "${m.from}" on the stream authenticated as "${peer}"`);
      if (m.to !== ctx.id) throw new HttpError(400, 'bad-request', `a raft message to "${m.to}" sent to "${ctx.id}"`);
      raft.step(m);
    },
  });

/** The node's own routes. */
export function nodeRoutes(ctx: NodeRouteContext): Route[] {
  const health: Handler = async (_req, res) => sendJson(res, 200, { ok: true, id: ctx.id });
  const status: Handler = async (_req, res) => {
    const s = ctx.raft.status();
    sendJson(res, 200, {
      ...s,
      leaderAddress: s.leader === null ? null : (ctx.members.get(s.leader) ?? null),
      members: Object.fromEntries(ctx.members),
      services: Object.fromEntries(ctx.services.map((svc) => [svc.name, svc.status()])),
      // The safety bugs planted in this node on purpose (test aids); [] in production.
      failpoints: enabledFailpoints(),
      // This node's wall clock (ms since the epoch), as leases see it; under clock faults it is off.
      now: Date.now(),
      storage: { loseUnsynced: ctx.loseUnsynced ?? false },
    });
  };
  const metrics: Handler = async (_req, res) => {
    const text = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType }).end(text);
  };
  const openapi: Handler = async (_req, res) => sendJson(res, 200, ctx.openapi);
  const challenge: Handler = async (req, res) => {
    req.resume();
    sendJson(res, 200, { nonce: ctx.auth.challenge() });
  };
  return [
    { method: 'GET', path: '/internal/raft/challenge', name: 'raft-challenge', handler: challenge },
    { method: 'POST', path: RAFT_STREAM_PATH, name: 'raft-stream', handler: peerStream(ctx, 'raft', () => raftSink(ctx, ctx.raft)) },
    {
      method: 'POST',
      path: GROUP_STREAM_PREFIX,
      name: 'raft-group-stream',
      handler: peerStream(ctx, 'raft', (name) => {
        const raft = name === undefined ? undefined : ctx.groups.get(name);
        return raft && raftSink(ctx, raft);
      }),
    },
    { method: 'POST', path: FORWARD_STREAM_PATH, name: 'forward-stream', handler: peerStream(ctx, 'forwarding', () => (peer) => ctx.forwarding.sink(peer)) },
    { method: 'GET', path: '/health', name: 'health', handler: health },
    { method: 'GET', path: '/status', name: 'status', handler: status },
    { method: 'GET', path: '/metrics', name: 'metrics', handler: metrics },
    { method: 'GET', path: '/openapi.json', name: 'openapi', handler: openapi },
  ];
}

/**
 * Checks that no two routes claim one method and path.
 * @throws RangeError naming the clash
 */
export function checkRoutes(routes: readonly Route[]): void {
  const seen = new Map<string, string>();
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    const other = seen.get(key);
    if (other !== undefined) throw new RangeError(`two routes serve ${key}: ${other} and ${r.name}`);
    seen.set(key, r.name);
  }
}

/**
 * Finds the routes of a path, compiled once: exact paths by a map lookup, then templates with one
 * `{name}` segment (each split once, here), then prefixes ending in `/` that capture one more
 * segment. Every route of the path is returned (one per method), with what it captured.
 */
export function routeMatcher(routes: readonly Route[]): (path: string) => { routes: readonly Route[]; param: string | undefined } {
  const exact = new Map<string, Route[]>();
  const templates = new Map<string, { segments: string[]; routes: Route[] }>();
  const prefixes = new Map<string, Route[]>();
  const add = <K>(m: Map<K, Route[]>, k: K, r: Route): void => {
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  };
  for (const r of routes) {
    add(exact, r.path, r);
    if (r.path.includes('{')) {
      const t = templates.get(r.path);
      if (t) t.routes.push(r);
      else templates.set(r.path, { segments: r.path.split('/'), routes: [r] });
    } else if (r.path.endsWith('/')) add(prefixes, r.path, r);
  }
  const none = { routes: [] as Route[], param: undefined };
  return (path) => {
    const e = exact.get(path);
    if (e) return { routes: e, param: undefined };
    if (templates.size > 0) {
      const got = path.split('/');
      for (const t of templates.values()) {
        if (t.segments.length !== got.length) continue;
        let param: string | null = null;
        let ok = true;
        for (let i = 0; i < got.length && ok; i++) {
          const w = t.segments[i] as string;
          const g = got[i] as string;
          if (w.startsWith('{') && w.endsWith('}')) {
            if (g.length === 0) ok = false;
            else param = g;
          } else if (w !== g) ok = false;
        }
        if (ok && param !== null) return { routes: t.routes, param };
      }
    }
    // A prefix route captures exactly one more segment.
    const slash = path.lastIndexOf('/');
    if (slash >= 0 && slash < path.length - 1) {
      const p = prefixes.get(path.slice(0, slash + 1));
      if (p) return { routes: p, param: path.slice(slash + 1) };
    }
    return none;
  };
}

/** The routes that serve forwarded requests (`Route.serve`), found by method and path. */
export function forwardedRoutes(routes: readonly Route[]): FindServe {
  const match = routeMatcher(routes.filter((r) => r.serve !== undefined));
  return (method, path) => {
    const q = path.indexOf('?');
    const { routes: candidates, param } = match(q < 0 ? path : path.slice(0, q));
    const serve = candidates.find((r) => r.method === method)?.serve;
    return serve === undefined ? undefined : { serve, param };
  };
}

/** The request listener of a node's HTTP server over `routes`. */
export function requestListener(routes: readonly Route[], ctx: { readonly metrics: NodeMetrics; readonly log: Logger }): (req: IncomingMessage, res: ServerResponse) => void {
  checkRoutes(routes);
  const match = routeMatcher(routes);
  // The metrics' children per route (and status), looked up once: prom-client hashes the labels on every call otherwise.
  const durations = new Map<string, Histogram.Internal<'route'>>();
  const counts = new Map<string, Counter.Internal>();
  const duration = (route: string): Histogram.Internal<'route'> => {
    let h = durations.get(route);
    if (!h) durations.set(route, (h = ctx.metrics.httpDuration.labels({ route })));
    return h;
  };
  const count = (route: string, status: number): Counter.Internal => {
    const key = `${route} ${status}`;
    let c = counts.get(key);
    if (!c) counts.set(key, (c = ctx.metrics.httpRequests.labels({ route, status: String(status) })));
    return c;
  };
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const { routes: candidates, param } = match(path);
    const route = candidates.find((r) => r.method === req.method);
    const name = route?.name ?? 'unknown';
    const observeDuration = duration(name).startTimer();
    res.on('finish', () => {
      count(name, res.statusCode).inc();
      observeDuration();
    });
    if (!route) {
      req.resume();
      if (candidates.length > 0) {
        const allow = candidates.map((r) => r.method).join(', ');
        sendJson(res, 405, { error: 'method-not-allowed', message: `${req.method ?? '?'} ${path}: allowed ${allow}` }, { allow });
      } else {
        sendJson(res, 404, { error: 'not-found', message: `no route ${req.method ?? '?'} ${path}` });
      }
      return;
    }
    route.handler(req, res, param).catch((e: unknown) => {
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
