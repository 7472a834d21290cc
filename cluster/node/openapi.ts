/** The node's OpenAPI 3.1 document, with request schemas generated from the zod schemas the node validates with. */
import { z } from 'zod';
import { acquireBody, releaseBody, renewBody } from './schemas.js';

const error = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'a code: bad-request, not-found, too-large, conflict, deadlock, timeout, not-held, unavailable, ...' },
    message: { type: 'string' },
    field: { type: 'string', description: '400: the offending field' },
    leader: { type: ['string', 'null'], description: '503: the leader, if known' },
    definite: { type: 'boolean', description: '503: true if the command surely was not applied' },
  },
};

function body(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json['$schema'];
  return { required: true, content: { 'application/json': { schema: json } } };
}

const json = (description: string, schema: Record<string, unknown> = { type: 'object' }): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema } },
});

const errors = {
  '400': json('malformed input', { $ref: '#/components/schemas/Error' }),
  '413': json('body too large', { $ref: '#/components/schemas/Error' }),
  '503': json('no quorum or leader within the deadline', { $ref: '#/components/schemas/Error' }),
};

const grant = {
  type: 'object',
  properties: { name: { type: 'string' }, mode: { enum: ['exclusive', 'shared'] }, token: { type: 'integer', description: 'fencing token' }, expiresAt: { type: 'number' } },
};

/** The OpenAPI document served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'dsync node', version, description: 'A Raft-replicated lock manager. Any node accepts any request and forwards it to the leader.' },
    components: { schemas: { Error: error } },
    paths: {
      '/lock/acquire': {
        post: {
          summary: 'Acquire a lock (waits in a FIFO queue up to waitMs)',
          requestBody: body(acquireBody),
          responses: { '200': json('granted', grant), '409': json('conflict, deadlock or timeout', { $ref: '#/components/schemas/Error' }), ...errors },
        },
      },
      '/lock/release': {
        post: { summary: 'Release a held lock', requestBody: body(releaseBody), responses: { '200': json('released'), '409': json('not-held', { $ref: '#/components/schemas/Error' }), ...errors } },
      },
      '/lock/renew': {
        post: { summary: "Renew a holder's lease", requestBody: body(renewBody), responses: { '200': json('renewed'), '409': json('not-held', { $ref: '#/components/schemas/Error' }), ...errors } },
      },
      '/lock/{name}': {
        get: {
          summary: 'Read a lock (linearizable: ReadIndex on the leader)',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('the lock: mode, holders, waiters'), ...errors },
        },
      },
      '/health': { get: { summary: 'Liveness', responses: { '200': json('ok') } } },
      '/status': { get: { summary: 'Raft status: role, term, leader, commitIndex, lastApplied, ...', responses: { '200': json('status') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': json('OpenAPI 3.1') } } },
    },
  };
}
