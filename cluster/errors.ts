/** Turning whatever was thrown into an Error, or into its message. */

/** `e` if it is an Error, else an Error whose message is `String(e)`. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The message of whatever was thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
