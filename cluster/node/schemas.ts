/**
 * The node's own request schemas (zod) — what peers may send — and {@link validate}, which every
 * route uses on what it is sent: a 400 naming the first bad field. Each service keeps the schemas
 * of its client API beside its routes (e.g. `cluster/lock/lock-schemas.ts`).
 */
import { z } from 'zod';
import { HttpError } from './http-util.js';

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
