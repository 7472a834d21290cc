/** Tests' way to plant a bug for the length of one test (see `cluster/failpoints.ts`). */
import { setFailpointsForTest } from '../../cluster/failpoints.js';

/**
 * Runs `fn` with exactly `names` switched on in this process, and switches them back off (to
 * what was on before) when it ends — also when it throws.
 */
export async function withFailpoints<T>(names: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  const before = setFailpointsForTest(names);
  try {
    return await fn();
  } finally {
    setFailpointsForTest(before);
  }
}

/** {@link withFailpoints} for synchronous code. */
export function withFailpointsSync<T>(names: readonly string[], fn: () => T): T {
  const before = setFailpointsForTest(names);
  try {
    return fn();
  } finally {
    setFailpointsForTest(before);
  }
}
