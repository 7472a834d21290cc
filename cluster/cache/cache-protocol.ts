/**
 * The messages of the cache's coherence protocol between nodes (MESI with a directory at each
 * key's home), as zod schemas: everything a peer sends is validated before it is applied.
 *
 * To the home: `read` (a read miss), `write` (a write or, with `value: null`, a delete),
 * `writeback` (a Modified line evicted, or its lease running out), `sample` (the directory's
 * view and every node's line, for `GET /cache/{key}/state`), `installed` (write-back: the writer
 * holds its Modified grant now — until then the home keeps the key busy, so that no downgrade can
 * reach the writer before its dirty value does). From the home to a holder:
 * `invalidate`, `downgrade` (to Shared, handing over a dirty value), `peek` (the holder's line).
 * Between any two nodes: `ping` (the fail-over's probe, `home-failover.ts`) and `handoff` (a node
 * that became the home of keys asks their former home for its directory entries of them).
 *
 * Versions: each home numbers the writes it orders with one counter per incarnation (`inc`, a
 * random id drawn when the home starts); a grant carries the counter's value, an invalidation the
 * version of the write that causes it. A node never installs a grant older than an invalidation
 * or a line it has already seen from the same incarnation, so a grant overtaken by the
 * invalidation of the next write (they travel on different streams) cannot resurrect a stale copy.
 */
import { z } from 'zod';

/** The longest key, in characters (UTF-16 code units; so at most 1,024 UTF-8 bytes, the stores' limit). */
export const MAX_KEY_LENGTH = 256;

/** A line's state on a node (Invalid is the absence of a line). */
export type LineState = 'M' | 'E' | 'S';
/** A line's state, or `I` when the node holds none. */
export type SeenState = LineState | 'I';

const key = z.string().min(1).max(MAX_KEY_LENGTH);
const inc = z.number().int().nonnegative().max(0xffffffff);
const version = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A value: JSON text, or null when the key has none. */
const value = z.string().nullable();
const lineState = z.enum(['M', 'E', 'S']);

export const readRequest = z.strictObject({ key });
export const writeRequest = z.strictObject({ key, value, keep: z.boolean() });
/** `renew`: the holder keeps the line (its lease was running out) and wants a fresh lease; else it was evicted. */
export const writebackRequest = z.strictObject({ key, value, inc, version, renew: z.boolean() });
export const sampleRequest = z.strictObject({ key });
/** Write-back: the writer has installed (or dropped) the Modified grant of `version`; the home may go on with the key. */
export const installedRequest = z.strictObject({ key, inc, version });
export const invalidateRequest = z.strictObject({ key, inc, version });
export const downgradeRequest = z.strictObject({ key, inc, version });
export const peekRequest = z.strictObject({ key });
/** The fail-over's probe (`home-failover.ts`): any answer says the node is alive. */
export const pingRequest = z.strictObject({});
/** A new home asks a former one for its directory entries of the keys the home map at `epoch` gave it. */
export const handoffRequest = z.strictObject({ epoch: version });
/** The most entries a hand-over carries; past it the new home waits one hold period instead. */
export const MAX_HANDOFF_ENTRIES = 20_000;
/** The former home's entries (`complete: false`: it could not hand them all over — not at that epoch, or too many). */
export const handoffReply = z.strictObject({
  complete: z.boolean(),
  entries: z
    .array(z.strictObject({ key, holders: z.array(z.strictObject({ node: z.string().min(1).max(256), state: lineState, leftMs: z.number().nonnegative().max(86_400_000) })).max(64) }))
    .max(MAX_HANDOFF_ENTRIES),
});

/** A copy granted by the home: its value, state and version, and how long the holder may serve it. */
export const grant = z.strictObject({ value, state: lineState, inc, version, leaseMs: z.number().int().positive() });
export const writebackReply = z.strictObject({ accepted: z.boolean(), grant: grant.optional() });
export const invalidateReply = z.strictObject({ had: z.enum(['M', 'E', 'S', 'I']) });
export const downgradeReply = z.strictObject({ held: z.boolean(), dirty: z.boolean(), value: value.optional() });
/** A node's line as it reports it. */
export const lineView = z.strictObject({
  node: z.string(),
  state: z.enum(['M', 'E', 'S', 'I']),
  value: value.optional(),
  inc: inc.optional(),
  version: version.optional(),
  dirty: z.boolean().optional(),
  /** ms left on its lease (≤ 0: expired, it serves it no more). */
  leaseLeftMs: z.number().optional(),
});
/** `GET /cache/{key}/state`: the home's directory entry and the lines of every node it reached, taken under the key's lock. */
export const sampleReply = z.strictObject({
  key,
  home: z.string(),
  inc,
  version,
  /** The store's value at the instant of the sample. */
  stored: value,
  directory: z.array(z.strictObject({ node: z.string(), state: lineState, leaseLeftMs: z.number() })),
  lines: z.array(lineView),
  /** Nodes that did not answer in time. */
  unreachable: z.array(z.string()),
});

export type ReadRequest = z.infer<typeof readRequest>;
export type WriteRequest = z.infer<typeof writeRequest>;
export type WritebackRequest = z.infer<typeof writebackRequest>;
export type InvalidateRequest = z.infer<typeof invalidateRequest>;
export type DowngradeRequest = z.infer<typeof downgradeRequest>;
export type Grant = z.infer<typeof grant>;
export type WritebackReply = z.infer<typeof writebackReply>;
export type HandoffReply = z.infer<typeof handoffReply>;
export type InvalidateReply = z.infer<typeof invalidateReply>;
export type DowngradeReply = z.infer<typeof downgradeReply>;
export type LineView = z.infer<typeof lineView>;
export type SampleReply = z.infer<typeof sampleReply>;

/** Every RPC: its request and reply schemas. The path is `/internal/cache/<name>`. */
export const CACHE_RPCS = {
  read: { req: readRequest, res: grant, toHome: true },
  write: { req: writeRequest, res: grant, toHome: true },
  writeback: { req: writebackRequest, res: writebackReply, toHome: true },
  sample: { req: sampleRequest, res: sampleReply, toHome: true },
  installed: { req: installedRequest, res: z.strictObject({}), toHome: true },
  invalidate: { req: invalidateRequest, res: invalidateReply, toHome: false },
  downgrade: { req: downgradeRequest, res: downgradeReply, toHome: false },
  peek: { req: peekRequest, res: lineView, toHome: false },
  ping: { req: pingRequest, res: z.strictObject({}), toHome: false },
  handoff: { req: handoffRequest, res: handoffReply, toHome: false },
} as const;

export type CacheRpcName = keyof typeof CACHE_RPCS;
export type RpcRequest<K extends CacheRpcName> = z.infer<(typeof CACHE_RPCS)[K]['req']>;
export type RpcReply<K extends CacheRpcName> = z.infer<(typeof CACHE_RPCS)[K]['res']>;

/** The outcome of an RPC: its reply, or why there is none (`definite`: it surely was not applied). */
export type RpcResult<T> = { readonly ok: true; readonly reply: T } | { readonly ok: false; readonly status: number; readonly error: string; readonly message: string; readonly definite: boolean };

/** Sends the protocol's RPCs to peers (the node's forward channel; an in-memory one in tests). */
export interface CachePeers {
  call<K extends CacheRpcName>(to: string, rpc: K, req: RpcRequest<K>, timeoutMs: number): Promise<RpcResult<RpcReply<K>>>;
}

/** The path of an RPC. */
export const rpcPath = (rpc: CacheRpcName): string => `/internal/cache/${rpc}`;
