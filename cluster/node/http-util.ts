/**
 * Small HTTP helpers shared by the node's routes: bounded body reading, JSON replies and the
 * one error shape every route uses, `{"error": "<code>", "message": "..."}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that becomes an HTTP reply. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reads the whole body, refusing (413) more than `limit` bytes without buffering them. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, 'too-large', `the body is ${declared} bytes; the limit is ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new HttpError(413, 'too-large', `the body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, 'bad-request', `reading the body failed: ${e.message}`));
    });
  });
}

/** Parses a JSON body; an empty body is `{}`. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw new HttpError(400, 'bad-request', `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The JSON body of an error's reply: `{"error": "<code>", "message", ...extra}`. */
export function errorBody(e: HttpError): Record<string, unknown> {
  return { error: e.code, message: e.message, ...e.extra };
}

/** Sends the reply for an error; a 413 also closes the connection (the rest of the body is unread). */
export function sendError(res: ServerResponse, e: HttpError, extraHeaders: Record<string, string> = {}): void {
  const headers: Record<string, string> = { ...(e.status === 413 ? { connection: 'close' } : {}), ...extraHeaders };
  sendJson(res, e.status, errorBody(e), headers);
}

/**
 * A whole HTTP/1.1 reply as raw text, for a socket no `ServerResponse` wraps (a refused
 * connection, a CONNECT, a request Node could not parse): `status` is the status line's tail
 * (`'405 Method Not Allowed'`), the body is the JSON error shape, and the connection closes.
 */
export function rawReply(status: string, error: string, message: string): string {
  const body = JSON.stringify({ error, message });
  return `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * A route's captured path segment, percent-decoded; 400 naming `field` when it is not valid
 * percent-encoding (`what` names it in the message, e.g. "queue name").
 */
export function decodePathSegment(param: string | undefined, what: string, field: string): string {
  try {
    return decodeURIComponent(param ?? '');
  } catch {
    throw new HttpError(400, 'bad-request', `the ${what} in the path is not valid percent-encoding`, { field });
  }
}
