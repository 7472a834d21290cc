/**
 * Forwarding client requests between nodes over peer streams (`peer-lines.ts`) rather than with
 * an HTTP request each: a node that must pass a client's request to a peer (the leader of a Raft
 * group) writes it as one line on its stream to that peer, and the peer writes the answer on its
 * own stream back. What one turn of the event loop forwards to a peer is one write, and so are
 * the answers: with three nodes on two cores, the HTTP parsing, the undici request and the two
 * syscalls per forwarded request were a third of what the cluster spent per queue message.
 *
 * A request carries the client's method, path and raw body; the serving node finds the route by
 * them and answers with its {@link ForwardedServe} (which never forwards again). A request whose
 * answer does not come within its deadline, or whose stream broke after it may have reached the
 * peer, is answered 503 `definite: false` (it may have been applied); one that cannot have
 * reached the peer, 503 `definite: true`. A long poll whose client goes away is cancelled on the
 * peer, as closing its HTTP request would.
 *
 * Every frame is validated on arrival; an answer is taken only from the peer the request went to.
 */
import { z } from 'zod';
import { HttpError, errorBody } from './http-util.js';
import { PeerLines, type PeerStream } from './peer-lines.js';
import { pushWireLines } from './peer-stream.js';
import type { PeerSink } from './routes.js';
import { unavailable, type ServiceReply } from './reply.js';
import { validate } from './schemas.js';
import { errorMessage } from '../errors.js';

/** The route that takes the forwarding stream. */
export const FORWARD_STREAM_PATH = '/internal/forward/stream';

/**
 * Serves a request a peer forwarded here: `body` is the client's raw body, `peer` the member that
 * sent it (authenticated by its stream). Throw `HttpError` for a 4xx.
 */
export type ForwardedServe = (param: string | undefined, body: Buffer, clientGone: AbortSignal | undefined, peer: string) => Promise<ServiceReply>;

/** Finds the {@link ForwardedServe} of a method and path (a query string is ignored), with the path's captured parameter. */
export type FindServe = (method: string, path: string) => { readonly serve: ForwardedServe; readonly param: string | undefined } | undefined;

const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const requestFrame = z.strictObject({
  t: z.literal('req'),
  id,
  m: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
  p: z.string().min(1).max(8192),
  b: z.string(),
  /** A long poll: it may be cancelled. */
  lp: z.literal(true).optional(),
});
const cancelFrame = z.strictObject({ t: z.literal('cancel'), id });
const replyFrame = z.strictObject({ t: z.literal('rep'), id, s: z.number().int().min(100).max(599), b: z.record(z.string(), z.unknown()) });
const frame = z.discriminatedUnion('t', [requestFrame, cancelFrame, replyFrame]);

interface Pending {
  readonly to: string;
  readonly resolve: (r: ServiceReply) => void;
  readonly timer: NodeJS.Timeout;
  readonly longPoll: boolean;
  /** The stream the request went out on; null until its batch is written. */
  stream: PeerStream | null;
  /** Stops listening to the client going away. */
  unlisten: (() => void) | undefined;
}

export interface ForwardChannelOptions {
  /** Every member (this one included): id → host:port. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly self: string;
  /** The cluster secret that signs each stream's challenge; `null` (`--insecure`). */
  readonly secret: Buffer | null;
  /** The largest body a forwarded request may carry, bytes (the node's client limit). */
  readonly bodyLimit: number;
  /** The first failure of a streak, per peer, for the log. */
  readonly onError?: (peer: string, error: Error) => void;
}

/** Counters for /metrics and tests. */
export interface ForwardStats {
  /** Requests sent to peers. */
  sent: number;
  /** Requests sent that a peer answered. */
  answered: number;
  /** Requests sent that were answered here 503, for a deadline or a broken stream. */
  unanswered: number;
  /** Requests served here for peers. */
  served: number;
}

/** Forwards requests to peers and serves theirs. */
export class ForwardChannel {
  readonly #o: ForwardChannelOptions;
  readonly #lines: PeerLines;
  #find: FindServe = () => undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Lines waiting for the end of this turn of the event loop, per peer, with the ids of their requests. */
  readonly #outbox = new Map<string, { lines: string[]; ids: number[] }>();
  #flushScheduled = false;
  /** Per open stream from a peer, the long polls it brought that are being served, by request id. */
  readonly #serving = new Set<Map<number, AbortController>>();
  #closed = false;
  readonly stats: ForwardStats = { sent: 0, answered: 0, unanswered: 0, served: 0 };

  constructor(o: ForwardChannelOptions) {
    this.#o = o;
    this.#lines = new PeerLines({
      addresses: o.addresses,
      self: o.self,
      secret: o.secret,
      path: FORWARD_STREAM_PATH,
      onError: o.onError,
      onStreamEnd: (peer, stream, error, reached) => this.#streamEnded(peer, stream, error, reached),
    });
  }

  /** The routes a peer's request may name (set once the services have started). */
  setRoutes(find: FindServe): void {
    this.#find = find;
  }

  /** Whether a request to `method` `path` goes over the channel (its route serves forwarded requests). */
  canForward(method: string, path: string): boolean {
    return !this.#closed && this.#find(method, path) !== undefined;
  }

  /**
   * Sends a request to `to` and resolves with its answer, or with a 503 when none can come in
   * `timeoutMs` (`definite` as above). `clientGone` ends the wait, and cancels a long poll on the peer.
   */
  call(to: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: Buffer | null, timeoutMs: number, longPoll: boolean, clientGone?: AbortSignal): Promise<ServiceReply> {
    if (this.#closed) return Promise.resolve(unavailable('the node is shutting down', to, true));
    if (!this.#lines.has(to)) return Promise.resolve(unavailable(`the leader ${to} is not a known peer`, to, true));
    if (clientGone?.aborted) return Promise.resolve(unavailable('the client went away', to, true));
    return new Promise<ServiceReply>((resolve) => {
      const rid = this.#nextId++;
      const timer = setTimeout(() => this.#unanswered(rid, `the leader ${to} did not answer within ${Math.round(timeoutMs)} ms`), Math.max(1, Math.ceil(timeoutMs)));
      let unlisten: (() => void) | undefined;
      if (clientGone) {
        const onGone = (): void => this.#unanswered(rid, 'the client went away');
        clientGone.addEventListener('abort', onGone, { once: true });
        unlisten = () => clientGone.removeEventListener('abort', onGone);
      }
      this.#pending.set(rid, { to, resolve, timer, longPoll, stream: null, unlisten });
      const req: z.input<typeof requestFrame> = { t: 'req', id: rid, m: method, p: path, b: body === null ? '' : body.toString('utf8'), ...(longPoll ? { lp: true } : {}) };
      this.#queue(to, JSON.stringify(req), rid);
      this.stats.sent++;
    });
  }

  /** The sink of a peer's forwarding stream (its requests, its cancels and its answers). */
  sink(peer: string): PeerSink {
    // This stream's long polls: a cancel comes on the stream that brought the request, and when
    // the stream ends only its own long polls end — not those of a newer stream from the peer.
    const serving = new Map<number, AbortController>();
    this.#serving.add(serving);
    return {
      message: (json) => {
        const f = validate(frame, json, 'forwarded frame');
        if (f.t === 'req') this.#serve(peer, f, serving);
        else if (f.t === 'cancel') serving.get(f.id)?.abort();
        else this.#answered(peer, f);
      },
      // The stream is gone, as a client's connection would be: its long polls end here.
      end: () => {
        this.#serving.delete(serving);
        for (const c of serving.values()) c.abort();
      },
    };
  }

  /** Answers every waiting request 503 and closes the streams. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const rid of [...this.#pending.keys()]) this.#unanswered(rid, 'the node is shutting down');
    for (const serving of this.#serving) for (const c of serving.values()) c.abort();
    this.#serving.clear();
    await this.#lines.close();
  }

  #queue(peer: string, json: string, rid: number | null): void {
    let box = this.#outbox.get(peer);
    if (!box) this.#outbox.set(peer, (box = { lines: [], ids: [] }));
    pushWireLines(box.lines, json);
    if (rid !== null) box.ids.push(rid);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const boxes = [...this.#outbox];
    this.#outbox.clear();
    for (const [peer, box] of boxes) {
      const stream = this.#lines.write(peer, box.lines);
      for (const rid of box.ids) {
        const p = this.#pending.get(rid);
        if (!p) continue;
        if (stream === null) this.#unanswered(rid, `the stream to ${peer} is not taking writes`, true);
        else p.stream = stream;
      }
    }
  }

  #serve(peer: string, f: z.output<typeof requestFrame>, serving: Map<number, AbortController>): void {
    this.stats.served++;
    const reply = (r: ServiceReply): void => this.#queue(peer, JSON.stringify({ t: 'rep', id: f.id, s: r.status, b: r.body }), null);
    const found = this.#find(f.m, f.p);
    if (!found) {
      reply({ status: 404, body: { error: 'not-found', message: `no forwarded route ${f.m} ${f.p.split('?')[0]} on ${this.#o.self}` } });
      return;
    }
    const body = Buffer.from(f.b, 'utf8');
    if (body.length > this.#o.bodyLimit) {
      reply({ status: 413, body: { error: 'too-large', message: `the body is over the limit of ${this.#o.bodyLimit} bytes` } });
      return;
    }
    let gone: AbortController | undefined;
    if (f.lp) {
      gone = new AbortController();
      serving.set(f.id, gone);
    }
    let served: Promise<ServiceReply>;
    try {
      served = found.serve(found.param, body, gone?.signal, peer);
    } catch (e) {
      served = Promise.reject(e);
    }
    served
      .catch((e: unknown): ServiceReply => (e instanceof HttpError ? { status: e.status, body: errorBody(e) } : { status: 500, body: { error: 'internal', message: errorMessage(e) } }))
      .then((r) => {
        if (gone) serving.delete(f.id);
        reply(r);
      });
  }

  #answered(peer: string, f: z.output<typeof replyFrame>): void {
    const p = this.#pending.get(f.id);
    // An answer for a request that timed out here, or from another peer than it went to: dropped.
    if (!p || p.to !== peer) return;
    this.stats.answered++;
    this.#settle(f.id, p, { status: f.s, body: f.b });
  }

  /** Answers a request 503 here: definite only when it cannot have reached the peer. */
  #unanswered(rid: number, why: string, neverSent = false): void {
    const p = this.#pending.get(rid);
    if (!p) return;
    this.stats.unanswered++;
    // A long poll left waiting on the peer would hold a message or a lock for no one.
    if (p.longPoll && p.stream !== null) this.#queue(p.to, JSON.stringify({ t: 'cancel', id: rid }), null);
    this.#settle(rid, p, unavailable(`forwarding to the leader ${p.to} failed: ${why}`, p.to, neverSent));
  }

  #settle(rid: number, p: Pending, r: ServiceReply): void {
    this.#pending.delete(rid);
    clearTimeout(p.timer);
    p.unlisten?.();
    p.resolve(r);
  }

  #streamEnded(peer: string, stream: PeerStream, error: Error | null, reached: boolean): void {
    const why = error === null ? `the stream to ${peer} closed` : `the stream to ${peer} broke: ${error.message}`;
    for (const [rid, p] of [...this.#pending]) {
      if (p.stream === stream) this.#unanswered(rid, why, !reached);
    }
  }
}
