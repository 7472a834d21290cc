/**
 * Reading a node's reply body as JSON, for every HTTP client of the node API (the node's
 * forwarder, the workloads' HTTP client): a body that is not JSON becomes a `bad-gateway` error
 * body, and JSON that is not an object is wrapped as `{value}`, so readers always get an object.
 */

/** A reply body read as JSON. */
export interface JsonReply {
  /**
   * The body's object; `{value: parsed}` for JSON that is not an object (an array, a string, a
   * number, `null`); a `bad-gateway` error body for text that is not JSON.
   */
  readonly body: Record<string, unknown>;
  /** False when the text was not JSON, and `body` is the `bad-gateway` error body made for it. */
  readonly json: boolean;
}

/**
 * A reply's body text read as JSON. `from` names the sender in the error message of a body that
 * is not JSON (`"the leader n2"` → "the leader n2 answered HTTP 200 with a body that is not JSON").
 */
export function parseJsonReply(status: number, text: string, from: string): JsonReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { json: false, body: { error: 'bad-gateway', message: `${from} answered HTTP ${status} with a body that is not JSON` } };
  }
  const body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  return { json: true, body };
}
