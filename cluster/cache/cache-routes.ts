/**
 * The cache API's HTTP routes (`GET/PUT/DELETE /cache/{key}`, `GET /cache/{key}/state`), the
 * coherence protocol's peer RPCs (`/internal/cache/<rpc>`, served only over the authenticated
 * forwarding streams), the {@link CachePeers} that sends them, and the OpenAPI part.
 *
 * A client may ask any node: it answers a hit from its own line and goes to the key's home for
 * the rest (`cache-engine.ts`).
 */
import { z } from 'zod';
import { decodePathSegment, HttpError, parseJson, readBody, sendJson } from '../node/http-util.js';
import { validate } from '../node/schemas.js';
import type { Forwarder } from '../node/forwarder.js';
import type { ServiceReply } from '../node/reply.js';
import { errorResponses, jsonBody, jsonResponse } from '../node/openapi.js';
import type { Handler, Route } from '../node/service.js';
import { CacheFailure, type CacheEngine } from './cache-engine.js';
import { CACHE_RPCS, MAX_KEY_LENGTH, rpcPath, type CachePeers, type CacheRpcName, type RpcReply, type RpcRequest, type RpcResult } from './cache-protocol.js';

/** `PUT /cache/{key}`: any JSON value. */
export const putBody = z.strictObject({ value: z.json().describe('the value: any JSON value') });

/** The key of a route's path segment; 400 naming `key` otherwise. */
export function cacheKey(param: string | undefined): string {
  const key = decodePathSegment(param, 'key', 'key');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]|[\uD800-\uDFFF]/u.test(key)) {
    throw new HttpError(400, 'bad-request', `key: must be 1 to ${MAX_KEY_LENGTH} characters, no control characters or lone surrogates`, { field: 'key' });
  }
  return key;
}

/** Runs an engine call, turning a {@link CacheFailure} into its reply. */
async function replying(fn: () => Promise<ServiceReply>): Promise<ServiceReply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CacheFailure) return e.reply;
    throw e;
  }
}

/** Sends the protocol's RPCs over the node's forwarder (the forwarding streams). */
export function forwarderPeers(forwarder: Forwarder): CachePeers {
  return {
    async call<K extends CacheRpcName>(to: string, rpc: K, req: RpcRequest<K>, timeoutMs: number): Promise<RpcResult<RpcReply<K>>> {
      const r = await forwarder.forward(to, 'POST', rpcPath(rpc), Buffer.from(JSON.stringify(req)), timeoutMs);
      if (r.status === 200) {
        const parsed = CACHE_RPCS[rpc].res.safeParse(r.body);
        if (parsed.success) return { ok: true, reply: parsed.data as RpcReply<K> };
        return { ok: false, status: 502, error: 'bad-gateway', message: `${to} answered ${rpc} with a malformed reply: ${parsed.error.issues[0]?.message ?? 'invalid'}`, definite: false };
      }
      const b = r.body;
      return {
        ok: false,
        status: r.status,
        error: typeof b['error'] === 'string' ? b['error'] : 'unavailable',
        message: typeof b['message'] === 'string' ? b['message'] : `${to} answered ${rpc} with ${r.status}`,
        definite: b['definite'] === true,
      };
    },
  };
}

/** The cache routes of a node. */
export function cacheRoutes(engine: CacheEngine, bodyLimit: number): Route[] {
  const send = (res: Parameters<Handler>[1], r: ServiceReply): void => sendJson(res, r.status, r.body);

  const get: Handler = async (req, res, param) => {
    req.resume();
    const key = cacheKey(param);
    const r = await replying(async () => {
      const got = await engine.read(key);
      if (got.value === null) return { status: 404, body: { error: 'not-found', message: `no value for ${JSON.stringify(key)}`, state: got.state, hit: got.hit } };
      return { status: 200, body: { value: JSON.parse(got.value) as unknown, state: got.state, hit: got.hit } };
    });
    send(res, r);
  };
  const put: Handler = async (req, res, param) => {
    const key = cacheKey(param);
    const b = validate(putBody, parseJson(await readBody(req, bodyLimit)), 'put');
    const r = await replying(async () => ({ status: 200, body: await engine.write(key, JSON.stringify(b.value)) }));
    send(res, r);
  };
  const del: Handler = async (req, res, param) => {
    req.resume();
    const key = cacheKey(param);
    const r = await replying(async () => {
      await engine.delete(key);
      return { status: 200, body: {} };
    });
    send(res, r);
  };
  const state: Handler = async (req, res, param) => {
    req.resume();
    const key = cacheKey(param);
    send(res, await replying(async () => ({ status: 200, body: { ...(await engine.sample(key)), policy: engine.policy } })));
  };

  const refuseHttp: Handler = async (req) => {
    req.resume();
    throw new HttpError(403, 'forbidden', 'cache peer RPC is served only over the authenticated forwarding stream of a member');
  };
  const rpcRoute = (rpc: CacheRpcName): Route => ({
    method: 'POST',
    path: rpcPath(rpc),
    name: `cache-rpc-${rpc}`,
    handler: refuseHttp,
    serve: async (_param, raw, _gone, peer) => {
      const req = validate(CACHE_RPCS[rpc].req, parseJson(raw), `cache ${rpc}`) as RpcRequest<typeof rpc>;
      return replying(async () => ({ status: 200, body: (await engine.serve(rpc, peer, req)) as Record<string, unknown> }));
    },
  });

  return [
    { method: 'GET', path: '/cache/{key}', name: 'cache-get', handler: get },
    { method: 'PUT', path: '/cache/{key}', name: 'cache-put', handler: put },
    { method: 'DELETE', path: '/cache/{key}', name: 'cache-delete', handler: del },
    { method: 'GET', path: '/cache/{key}/state', name: 'cache-state', handler: state },
    ...(Object.keys(CACHE_RPCS) as CacheRpcName[]).map(rpcRoute),
  ];
}


const keyParam = [{ name: 'key', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH } }];
const lineState = { type: 'string', enum: ['M', 'E', 'S', 'I'] };

/** The cache API's OpenAPI paths. */
export function cacheOpenApiPaths(): Record<string, unknown> {
  return {
    '/cache/{key}': {
      get: {
        summary: "Read a key: from this node's copy while its lease lasts (a hit), else through the key's home",
        parameters: keyParam,
        responses: {
          '200': jsonResponse('the value', { type: 'object', properties: { value: {}, state: lineState, hit: { type: 'boolean' } } }),
          '404': jsonResponse('the key has no value', { type: 'object', properties: { error: { type: 'string' }, state: lineState, hit: { type: 'boolean' } } }),
          ...errorResponses,
        },
      },
      put: {
        summary: 'Write a key: every other copy is invalidated first; write-through: in the store before the answer',
        parameters: keyParam,
        requestBody: jsonBody(putBody),
        responses: { '200': jsonResponse('written; this node holds the line Modified', { type: 'object', properties: { state: lineState, local: { type: 'boolean' } } }), ...errorResponses },
      },
      delete: {
        summary: 'Delete a key everywhere and from the store',
        parameters: keyParam,
        responses: { '200': jsonResponse('deleted'), ...errorResponses },
      },
    },
    '/cache/{key}/state': {
      get: {
        summary: "The key's home's directory entry, the store's value and every node's line, taken at the home under the key's lock",
        parameters: keyParam,
        responses: { '200': jsonResponse('the sample'), ...errorResponses },
      },
    },
  };
}
