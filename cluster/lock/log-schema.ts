/**
 * The schema (zod) of a lock-service log entry's data, {@link LockLogData}: what a follower
 * accepts from its leader before it persists an entry. The command is checked as the HTTP layer
 * checks a client's (`validateLockCommand`), so that nothing reaches the log that the state
 * machine could not apply.
 */
import { z } from 'zod';
import { LockCommandError, MAX_ID_LENGTH, validateLockCommand, type LockCommand } from './commands.js';
import type { LockLogData } from './sessions.js';

const command = z.unknown().transform((x, ctx): LockCommand => {
  try {
    return validateLockCommand(x);
  } catch (e) {
    const field = e instanceof LockCommandError ? e.field : 'command';
    ctx.addIssue({ code: 'custom', message: (e as Error).message, path: field === 'command' ? [] : [field] });
    return z.NEVER;
  }
});

/** One entry's data: `{command, request?: {session, seq}}`, nothing else. */
export const lockLogData: z.ZodType<LockLogData> = z.strictObject({
  command,
  request: z.strictObject({ session: z.string().min(1).max(MAX_ID_LENGTH), seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).optional(),
});

/**
 * Throws a TypeError naming the first bad field if `data` is not a lock-service entry's data.
 */
export function checkLockLogData(data: unknown): void {
  const r = lockLogData.safeParse(data);
  if (r.success) return;
  const i = r.error.issues[0];
  const field = i ? ['data', ...i.path.map(String)].join('.') : 'data';
  throw new TypeError(`${field}: ${i?.message ?? 'invalid'}`);
}
