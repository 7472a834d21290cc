/**
 * The node's own request schemas (zod) — what peers may send — and {@link validate}, which every
 * route uses on what it is sent: a 400 naming the first bad field. Each service keeps the schemas
 * of its client API beside its routes (e.g. `cluster/lock/lock-schemas.ts`).
 */
import { z } from 'zod';
import { HttpError } from './http-util.js';

/** A term, an index or a counter: a safe non-negative integer. */
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A member id. */
const member = z.string().min(1).max(256);
/**
 * A log entry. Its `data` is the service's command (or `null`, a leader's no-op): the state
 * machine checks it (`StateMachine.checkEntry`) before the entry is persisted.
 */
const entry = z.strictObject({ index: count.min(1), term: count, data: z.unknown() });
const envelope = { from: member, to: member, term: count };
/**
 * One Raft message (a line of `POST /internal/raft/stream`): every field typed, terms and indexes
 * safe non-negative integers, no unknown fields.
 */
export const raftMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('vote'), ...envelope, pre: z.boolean(), lastIndex: count, lastTerm: count }),
  z.strictObject({ type: z.literal('vote-resp'), ...envelope, pre: z.boolean(), granted: z.boolean() }),
  z
    .strictObject({
      type: z.literal('append'),
      ...envelope,
      prevIndex: count,
      prevTerm: count,
      entries: z.array(entry),
      commit: count,
      read: count.optional(),
    })
    .superRefine((m, ctx) => {
      if (!m.entries.every((e, i) => e.index === m.prevIndex + 1 + i)) ctx.addIssue({ code: 'custom', message: 'entries must follow prevIndex one by one', path: ['entries'] });
      if (!(m.entries.every((e) => e.term <= m.term) && m.prevTerm <= m.term)) ctx.addIssue({ code: 'custom', message: 'no entry may be of a later term than the message', path: ['entries'] });
    }),
  z.strictObject({
    type: z.literal('append-resp'),
    ...envelope,
    success: z.boolean(),
    index: count,
    rejected: count.optional(),
    read: count.optional(),
  }),
  z.strictObject({
    type: z.literal('snapshot'),
    ...envelope,
    snapshot: z.strictObject({ meta: z.strictObject({ index: count, term: count }), data: z.unknown() }),
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
