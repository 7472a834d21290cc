/** A JSON request to a node, as the cluster tests make them. */

/** A reply: its status and its JSON body. */
export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Sends `method path` to the node at `address` (host:port) with `body` as JSON (if given) and
 * reads the JSON reply (`{}` for an empty one, a 204). `signal` ends the request (default: 8 s).
 */
export async function callJson(address: string, method: string, path: string, body?: unknown, signal: AbortSignal = AbortSignal.timeout(8000)): Promise<JsonReply> {
  const res = await fetch(`http://${address}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal,
  });
  const text = await res.text();
  return { status: res.status, body: text.length === 0 ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
