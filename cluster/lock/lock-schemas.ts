/**
 * The lock API's request schemas (zod): what clients may send to `/lock/*`. They validate every
 * body before it reaches the service, and they are the source of the lock paths of the OpenAPI
 * document.
 */
import { z } from 'zod';
import { MAX_ID_LENGTH } from './commands.js';

/** A control character (C0, DEL, C1). */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The longest lease or wait a request may ask for: one day. */
export const MAX_DURATION_MS = 86_400_000;

/** Lock names, client ids and session ids: printable text (no control characters), as logs and keys need. */
const id = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)' });
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

/** The grant's secret (from the acquire's answer); without it release and renew get 403. */
const secret = z.string().min(1).max(MAX_ID_LENGTH).optional().describe("the grant's secret, from the acquire's answer: proof of ownership (403 without it)");

export const releaseBody = z
  .strictObject({ name: id, client: id, token, secret, ...session })
  .refine(bothOrNeither, bothOrNeitherError);

export const renewBody = z
  .strictObject({ name: id, client: id, token, ttlMs, secret, ...session })
  .refine(bothOrNeither, bothOrNeitherError);
