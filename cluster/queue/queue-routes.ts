/**
 * The queue API's HTTP routes (`/queue/{queue}/enqueue|dequeue|ack`, `GET
 * /queue/{queue}/placement`) and their OpenAPI part. Any node accepts any request: the queue's
 * replica group (from the ring) serves it on its Raft leader; a member of the group forwards it
 * there (`onLeader`), a node outside the group forwards it to the group's members, owner first,
 * following the leader they name.
 */
import { z } from 'zod';
import { decodePathSegment, HttpError, parseJson, readBody, sendJson } from '../node/http-util.js';
import { validate } from '../node/schemas.js';
import { FORWARDED_REQUEST, isForwarded, onLeader, type RoutedRequest } from '../node/leader-routing.js';
import type { Forwarder, ForwardKind } from '../node/forwarder.js';
import { unavailable, type ServiceReply } from '../node/reply.js';
import { errorResponses, jsonBody, jsonResponse, ERROR_REF } from '../node/openapi.js';
import type { Handler, Route } from '../node/service.js';
import { MAX_NAME_LENGTH, NAME_PATTERN } from './queue-machine.js';
import type { QueuePlacement } from './queue-placement.js';
import type { QueueGroup } from './queue-group.js';

/** The longest visibility timeout a dequeue may ask for: 12 hours (SQS's limit). */
export const MAX_VISIBILITY_MS = 43_200_000;
/** The longest long poll: 60 s. */
export const MAX_WAIT_MS = 60_000;

const idField = z.string().min(1).max(MAX_NAME_LENGTH).regex(NAME_PATTERN, { message: `must match ${NAME_PATTERN.source}` });

export const enqueueBody = z.strictObject({
  message: z.string().describe('the message'),
  id: idField.optional().describe('the message id; a retry with the same id is enqueued once. Default: a fresh random one'),
});
export const dequeueBody = z.strictObject({
  visibilityMs: z.number().int().min(1).max(MAX_VISIBILITY_MS).default(30_000).describe('how long the message stays leased (invisible) before it is delivered again'),
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS).default(0).describe('how long to wait for a message when there is none (long poll)'),
});
export const ackBody = z.strictObject({
  receipt: z.string().min(1).max(64).describe('the receipt the dequeue answered'),
});

/** What the routes need. */
export interface QueueRouting {
  readonly id: string;
  readonly placement: QueuePlacement;
  /** This node's groups, by name. */
  readonly groups: ReadonlyMap<string, QueueGroup>;
  readonly forwarder: Forwarder;
  readonly requestTimeoutMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The queue name of a route's path segment; 400 naming `queue` otherwise. */
export function queueName(param: string | undefined): string {
  const name = decodePathSegment(param, 'queue name', 'queue');
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw new HttpError(400, 'bad-request', `queue: must be 1 to ${MAX_NAME_LENGTH} characters matching ${NAME_PATTERN.source}`, { field: 'queue' });
  }
  return name;
}

/**
 * Forwards a request for a group this node is not in to its members — the owner first, then
 * whichever leader a member names — while the answers are definite 503s and time is left.
 */
async function viaMembers(req: RoutedRequest, r: QueueRouting, members: readonly string[], timeoutMs: number, body: Buffer, kind: ForwardKind, clientGone: AbortSignal | undefined): Promise<ServiceReply> {
  const deadline = performance.now() + timeoutMs;
  let last: ServiceReply = unavailable('no member of the queue group answered', null, true);
  let hint: string | null = null;
  for (let attempt = 0; ; attempt++) {
    const left = deadline - performance.now();
    if (left <= 0 || clientGone?.aborted) return last;
    if (attempt > 0) await sleep(Math.min(left, 10 * attempt));
    const to = hint !== null && members.includes(hint) && hint !== r.id ? hint : (members[attempt % members.length] as string);
    last = await r.forwarder.forward(to, 'POST', req.url ?? '/', body, deadline - performance.now(), kind, clientGone);
    if (!(last.status === 503 && last.body['definite'] === true)) return last;
    const named = last.body['leader'];
    hint = typeof named === 'string' ? named : null;
  }
}

/** The queue routes. */
export function queueRoutes(r: QueueRouting, bodyLimit: number): Route[] {
  /**
   * A queue operation, served on the queue's group leader wherever that is: `handler` for a
   * client's HTTP request, `serve` for one a peer forwarded here (served here or refused).
   */
  const route = <S extends z.ZodType>(
    schema: S,
    what: string,
    waitMs: (b: z.output<S>) => number,
    serve: (group: QueueGroup, q: string, b: z.output<S>, gone: AbortSignal | undefined) => Promise<ServiceReply>,
  ): Pick<Route, 'handler' | 'serve'> => {
    const parse = (param: string | undefined, raw: Buffer): { q: string; b: z.output<S>; wait: number } => {
      const q = queueName(param);
      const b = validate(schema, parseJson(raw), what);
      return { q, b, wait: waitMs(b) };
    };
    const answer = (req: RoutedRequest, q: string, b: z.output<S>, wait: number, raw: Buffer, gone: AbortSignal | undefined): Promise<ServiceReply> => {
      const kind: ForwardKind = wait > 0 ? 'long-poll' : 'short';
      const group = r.groups.get(r.placement.group(q).group);
      const timeout = wait + r.requestTimeoutMs;
      if (group) return onLeader(req, { id: r.id, raft: group.raft, forwarder: r.forwarder }, timeout, raw, () => serve(group, q, b, gone), kind, gone);
      if (isForwarded(req)) return Promise.resolve(unavailable(`${r.id} is not a member of the group of queue ${q}`, null, true));
      return viaMembers(req, r, r.placement.preferenceList(q), timeout, raw, kind, gone);
    };
    return {
      handler: async (req, res, param) => {
        const raw = await readBody(req, bodyLimit);
        const { q, b, wait } = parse(param, raw);
        // A long poll ends when its client goes away (here, or on the node it was forwarded to);
        // a short request is not worth an AbortController (a measurable cost at thousands a second).
        let gone: AbortController | undefined;
        if (wait > 0) {
          const g = (gone = new AbortController());
          res.once('close', () => {
            if (!res.writableFinished) g.abort();
          });
        }
        const reply = await answer(req, q, b, wait, raw, gone?.signal);
        // 204 (nothing to deliver) has no body, also when a peer answered it.
        if (reply.status === 204) res.writeHead(204).end();
        else sendJson(res, reply.status, reply.body);
      },
      serve: async (param, raw, gone) => {
        const { q, b, wait } = parse(param, raw);
        return answer(FORWARDED_REQUEST, q, b, wait, raw, gone);
      },
    };
  };

  const placement: Handler = async (req, res, param) => {
    req.resume();
    const q = queueName(param);
    const list = r.placement.preferenceList(q);
    const { group: name, members } = r.placement.group(q);
    const group = r.groups.get(name);
    sendJson(res, 200, { queue: q, position: r.placement.ring.position(q), owner: list[0], preferenceList: list, group: name, members, leader: group ? group.raft.leader : null });
  };

  return [
    { method: 'POST', path: '/queue/{queue}/enqueue', name: 'queue-enqueue', ...route(enqueueBody, 'enqueue', () => 0, (g, q, b) => g.enqueue(q, b.id ?? r.placement.newId(), b.message)) },
    { method: 'POST', path: '/queue/{queue}/dequeue', name: 'queue-dequeue', ...route(dequeueBody, 'dequeue', (b) => b.waitMs, (g, q, b, gone) => g.dequeue(q, b.visibilityMs, b.waitMs, gone)) },
    { method: 'POST', path: '/queue/{queue}/ack', name: 'queue-ack', ...route(ackBody, 'ack', () => 0, (g, q, b) => g.ack(q, b.receipt)) },
    { method: 'GET', path: '/queue/{queue}/placement', name: 'queue-placement', handler: placement },
  ];
}

const queueParam = [{ name: 'queue', in: 'path', required: true, schema: { type: 'string', pattern: NAME_PATTERN.source, maxLength: MAX_NAME_LENGTH } }];

/** The queue API's OpenAPI paths. */
export function queueOpenApiPaths(): Record<string, unknown> {
  return {
    '/queue/{queue}/enqueue': {
      post: {
        summary: 'Enqueue a message (answered once a majority of its replicas has it fsynced)',
        parameters: queueParam,
        requestBody: jsonBody(enqueueBody),
        responses: { '200': jsonResponse('enqueued', { type: 'object', properties: { id: { type: 'string' }, duplicate: { type: 'boolean' } } }), ...errorResponses },
      },
    },
    '/queue/{queue}/dequeue': {
      post: {
        summary: 'Lease the oldest available message for visibilityMs (long poll with waitMs)',
        parameters: queueParam,
        requestBody: jsonBody(dequeueBody),
        responses: {
          '200': jsonResponse('a message', { type: 'object', properties: { id: { type: 'string' }, message: { type: 'string' }, receipt: { type: 'string' }, deliveries: { type: 'integer' } } }),
          '204': { description: 'the queue is empty (or every message is leased)' },
          ...errorResponses,
        },
      },
    },
    '/queue/{queue}/ack': {
      post: {
        summary: 'Acknowledge (delete) a delivered message by its receipt',
        parameters: queueParam,
        requestBody: jsonBody(ackBody),
        responses: { '200': jsonResponse('acknowledged'), '409': jsonResponse('unknown-receipt: not a current lease of this leader', ERROR_REF), ...errorResponses },
      },
    },
    '/queue/{queue}/placement': {
      get: {
        summary: "Where a queue lives: its ring position, owner, preference list, replica group and the group's leader",
        parameters: queueParam,
        responses: { '200': jsonResponse('the placement'), ...errorResponses },
      },
    },
  };
}
