/**
 * Waiting on a condition with a deadline (never sleep-and-hope): polls `probe` until it returns
 * something other than `undefined` (or `false`), and fails naming `what` after `ms`.
 */
export async function eventually<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}
