/**
 * The clients of a benchmark load, made and closed together: the lock, queue and cache loads make
 * every client before they start and close every one at the end, also when one could not be made
 * or one fails to close.
 */
import { errorMessage } from '../../cluster/errors.js';

/** A benchmark client, whatever else it does: it can be closed. */
export interface Closable {
  /** Frees the client's resources; rejects when that failed. */
  close(): Promise<void>;
}

/** What hands out clients: a lock, queue or cache target. */
export interface ClientSource<C extends Closable> {
  /** Names the target in errors. */
  readonly label: string;
  /** Makes one client: `arg` is the client's number (lock, queue) or its node (cache). */
  client(arg: number): Promise<C>;
}

/** `[0, 1, …, n-1]`: the numbers of `n` clients, or of `n` nodes. */
export const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * One client per entry of `args`, made with `target.client(arg)`, in order; if one cannot be made,
 * closes those already made and rethrows.
 * @throws Error `<label>: cannot create a client: …` with the first failure as its cause
 */
export async function createClients<C extends Closable>(target: ClientSource<C>, args: readonly number[]): Promise<C[]> {
  const made = await Promise.allSettled(args.map((arg) => target.client(arg)));
  const ok = made.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await closeAll(ok).catch(() => undefined); // the first error is the one to report
    throw new Error(`${target.label}: cannot create a client: ${errorMessage(failed.reason)}`, { cause: failed.reason });
  }
  return ok;
}

/** Closes every client; a failing close does not keep the others open (the first failure is rethrown). */
export async function closeAll(clients: readonly Closable[]): Promise<void> {
  const closed = await Promise.allSettled(clients.map((c) => c.close()));
  const failed = closed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw new Error(`closing a client failed: ${errorMessage(failed.reason)}`, { cause: failed.reason });
}
