/**
 * The node's OpenAPI 3.1 document: the node's own paths (`/health`, `/status`, `/metrics`,
 * `/openapi.json`) and each service's, with request schemas generated from the zod schemas the
 * node validates with. The helpers here build a service's part.
 */
import { z } from 'zod';

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

/** A reference to the shared error body schema. */
export const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** A required JSON request body described by a zod schema. */
export function jsonBody(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json['$schema'];
  return { required: true, content: { 'application/json': { schema: json } } };
}

/** A JSON response. */
export const jsonResponse = (description: string, schema: Record<string, unknown> = { type: 'object' }): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema } },
});

/** The error responses every client route may give. */
export const errorResponses = {
  '400': jsonResponse('malformed input', ERROR_REF),
  '413': jsonResponse('body too large', ERROR_REF),
  '503': jsonResponse('no quorum, leader or owner within the deadline', ERROR_REF),
};

/** A service's part of the document. */
export interface OpenApiPart {
  readonly name: string;
  readonly paths: Record<string, unknown>;
  readonly schemas?: Record<string, unknown>;
}

/** The OpenAPI document served at `/openapi.json`: the node's paths and each service's. */
export function openApiDocument(version: string, services: readonly OpenApiPart[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { Error: error };
  for (const s of services) {
    Object.assign(paths, s.paths);
    Object.assign(schemas, s.schemas ?? {});
  }
  const names = services.map((s) => s.name).join(', ');
  return {
    openapi: '3.1.0',
    info: { title: 'dsync node', version, description: `A dsync node serving: ${names || 'no service'}. Any node accepts any request and forwards it where it belongs.` },
    components: { schemas },
    paths: {
      ...paths,
      '/health': { get: { summary: 'Liveness', responses: { '200': jsonResponse('ok') } } },
      '/status': { get: { summary: 'Raft status (role, term, leader, commitIndex, lastApplied, ...), members, each service\'s status under services, the failpoints enabled (test aids; [] in production), and storage.loseUnsynced (the DSYNC_LOSE_UNSYNCED test aid; false in production), now (the node wall clock, ms)', responses: { '200': jsonResponse('status') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': jsonResponse('OpenAPI 3.1') } } },
    },
  };
}
