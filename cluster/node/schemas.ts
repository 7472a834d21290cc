/**
 * The node's request schemas (zod): what clients and peers may send. They validate every body
 * before it reaches the service, and they are the source of the OpenAPI document.
 */
import { z } from 'zod';
import { HttpError } from './http-util.js';
import { MAX_ID_LENGTH } from '../lock/commands.js';

/** The longest lease or wait a request may ask for: one day. */
export const MAX_DURATION_MS = 86_400_000;

const id = z.string().min(1).max(MAX_ID_LENGTH);
const token = z.number().int().positive();
const ttlMs = z.number().int().min(1).max(MAX_DURATION_MS).describe('lease length in ms');
/** Exactly-once retries: the same session and seq again gets the first attempt's result. */
const session = {
  session: id.optional().describe('exactly-once retries: a client session id (with seq)'),
  seq: z.number().int().positive().optional().describe('request number within the session, increasing'),
};
const bothOrNeither = (x: { session?: string | undefined; seq?: number | undefined }): boolean => (x.session === undefined) === (x.seq === undefined);
const bothOrNeitherError = { message: 'session and seq go together: give both or neither', path: ['seq'] };

export const acquireBody = z
  .strictObject({
    name: id.describe('the lock'),
    client: id.describe('who holds it'),
    mode: z.enum(['exclusive', 'shared']).default('exclusive'),
    ttlMs: ttlMs.default(30_000),
    waitMs: z.number().int().min(0).max(MAX_DURATION_MS).default(0).describe('how long to wait in the queue; 0 = try-acquire'),
    ...session,
  })
  .refine(bothOrNeither, bothOrNeitherError);

export const releaseBody = z
  .strictObject({ name: id, client: id, token, ...session })
  .refine(bothOrNeither, bothOrNeitherError);

export const renewBody = z
  .strictObject({ name: id, client: id, token, ttlMs, ...session })
  .refine(bothOrNeither, bothOrNeitherError);

const entry = z.object({ index: z.number().int().positive(), term: z.number().int().min(0), data: z.unknown() });
const envelope = { from: z.string(), to: z.string(), term: z.number().int().min(0) };
/** One Raft message (a line of `POST /internal/raft/stream`). */
export const raftMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('vote'), ...envelope, pre: z.boolean(), lastIndex: z.number().int().min(0), lastTerm: z.number().int().min(0) }),
  z.object({ type: z.literal('vote-resp'), ...envelope, pre: z.boolean(), granted: z.boolean() }),
  z
    .object({
      type: z.literal('append'),
      ...envelope,
      prevIndex: z.number().int().min(0),
      prevTerm: z.number().int().min(0),
      entries: z.array(entry),
      commit: z.number().int().min(0),
      read: z.number().int().optional(),
    })
    .refine((m) => m.entries.every((e, i) => e.index === m.prevIndex + 1 + i), { message: 'entries must follow prevIndex one by one', path: ['entries'] }),
  z.object({
    type: z.literal('append-resp'),
    ...envelope,
    success: z.boolean(),
    index: z.number().int().min(0),
    rejected: z.number().int().min(0).optional(),
    read: z.number().int().optional(),
  }),
  z.object({
    type: z.literal('snapshot'),
    ...envelope,
    snapshot: z.object({ meta: z.object({ index: z.number().int().min(0), term: z.number().int().min(0) }), data: z.unknown() }),
  }),
]);

/** Validates `value` with `schema`; a 400 naming the first bad field otherwise. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const field = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || what;
    return { field, message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message };
  });
  const first = issues[0] ?? { field: what, message: 'invalid' };
  throw new HttpError(400, 'bad-request', `${what}: ${first.field}: ${first.message}`, { field: first.field, issues });
}
