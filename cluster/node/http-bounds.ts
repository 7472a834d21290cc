/**
 * Bounds on a node's HTTP listener, so that a slow or greedy client cannot hold its resources:
 * a header timeout (Node's own, checked every second), a body timeout (a request whose body has
 * not ended in time is answered 408 and its connection closed; an authenticated peer stream,
 * whose body is endless by design, is exempt), an idle timeout for a new connection that sends
 * nothing and for a keep-alive one between requests, and a cap on open connections (the one over
 * it is answered 503 and closed). Long polls are not cut: their body ends at once and the server
 * sets no response timeout — the service's own deadline (`waitMs` + request timeout) ends them.
 */
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { rawReply, sendJson } from './http-util.js';

/** The limits of one listener. */
export interface HttpLimits {
  /** Time to receive a request's headers, from its first byte, ms. @default 10000 */
  readonly headerTimeoutMs: number;
  /** Time to receive a request's whole body, from its first byte, ms. @default 30000 */
  readonly bodyTimeoutMs: number;
  /** A connection with no request in progress (new, or kept alive between requests) is closed after this long, ms. @default 65000 */
  readonly idleTimeoutMs: number;
  /** Most open connections; the next is answered 503 and closed. @default 1024 */
  readonly maxConnections: number;
}

/** The defaults of {@link HttpLimits}. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { headerTimeoutMs: 10_000, bodyTimeoutMs: 30_000, idleTimeoutMs: 65_000, maxConnections: 1024 };

/** How often Node checks header timeouts (its default is every 30 s). */
const CHECK_EVERY_MS = 1000;

/** The options to create the server with (Node reads some only at creation). */
export function serverOptions(l: HttpLimits): { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  // requestTimeout stays 0: it would also cut peer streams; the body timeout below is per request.
  return { keepAliveTimeout: l.idleTimeoutMs, headersTimeout: l.headerTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, l.headerTimeoutMs) };
}

const exempt = new WeakSet<IncomingMessage>();

/** Exempts `req` from the body timeout (an authenticated peer stream: its body never ends). */
export function exemptFromBodyTimeout(req: IncomingMessage): void {
  exempt.add(req);
}

/** Limits checked against {@link HttpLimits}; a message naming the bad field otherwise. */
export function checkHttpLimits(l: HttpLimits): HttpLimits {
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new RangeError(`${k} must be a positive integer, got ${String(v)}`);
  }
  return l;
}

/**
 * Applies the body and idle timeouts and the connection cap to `server` (created with
 * {@link serverOptions}), and answers a CONNECT request with 405.
 */
export function boundServer(server: Server, l: HttpLimits, log: Logger): void {
  let open = 0;
  const served = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    if (open >= l.maxConnections) {
      log.warn({ remote: socket.remoteAddress, open, max: l.maxConnections }, 'connection refused: too many open connections');
      socket.end(rawReply('503 Service Unavailable', 'unavailable', `too many open connections (the limit is ${l.maxConnections}, --max-connections)`));
      socket.destroySoon();
      return;
    }
    open++;
    socket.once('close', () => open--);
    // A connection that never starts a request: Node's header timeout starts at the first byte.
    const idle = setTimeout(() => {
      if (!served.has(socket)) socket.destroy();
    }, l.idleTimeoutMs);
    idle.unref();
    socket.once('close', () => clearTimeout(idle));
  });
  // Node hands a CONNECT request to this event and, with no listener, closes the socket without
  // a word: answer it as every other route does.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(rawReply('405 Method Not Allowed', 'method-not-allowed', `CONNECT ${(req.url ?? '').slice(0, 200)}: this server opens no tunnels`));
    if (socket instanceof Socket) socket.destroySoon();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    served.add(req.socket);
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (req.complete || exempt.has(req) || req.socket.destroyed) return;
      log.warn({ remote: req.socket.remoteAddress, method: req.method, url: req.url?.slice(0, 200), ms: l.bodyTimeoutMs }, 'request body timed out');
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      // The route's own reply, if it comes later, finds the connection gone.
      res.once('finish', () => req.socket.destroySoon());
      sendJson(res, 408, { error: 'request-timeout', message: `the request body did not end within ${l.bodyTimeoutMs} ms` }, { connection: 'close' });
    }, l.bodyTimeoutMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
  });
}
