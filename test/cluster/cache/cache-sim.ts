/**
 * In-memory cache cluster for the engine's tests: engines that call each other directly through
 * a transport that validates every message as the node's routes do, can cut links (a cut peer's
 * call fails at once, as a refused connection would, or hangs until its timeout) and can hold a
 * reply until the test lets it go; a memory store standing in for main memory.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheEngine, type CacheEngineOptions } from '../../../cluster/cache/cache-engine.js';
import { CACHE_RPCS, type CachePeers, type CacheRpcName, type RpcReply, type RpcRequest, type RpcResult } from '../../../cluster/cache/cache-protocol.js';
import type { BackingStore, BackingStoreStats } from '../../../cluster/cache/backing-store.js';
import { INITIAL_VIEW, StaleEpochError, type Fencing, type HomeView } from '../../../cluster/cache/home-map.js';

/** A store in memory, with counters; `shared: true` gives it a home map and fenced calls (as Redis has). */
export class MemoryStore implements BackingStore {
  readonly kind = 'embedded' as const;
  readonly data = new Map<string, string>();
  #stats = { gets: 0, puts: 0, deletes: 0, fsyncs: 0, errors: 0 };
  /** The home map (with `shared`). */
  map: HomeView = INITIAL_VIEW;
  readonly fencing?: Fencing;
  constructor(o: { shared?: boolean } = {}) {
    if (o.shared !== true) return;
    const at = (epoch: number): void => {
      if (epoch !== this.map.epoch) throw new StaleEpochError(epoch, this.map);
    };
    this.fencing = {
      read: () => Promise.resolve(this.map),
      swap: (expected, down) => {
        if (expected !== this.map.epoch) return Promise.resolve(null);
        this.map = { epoch: expected + 1, down: [...down].sort() };
        return Promise.resolve(this.map);
      },
      get: async (epoch, key) => (at(epoch), this.get(key)),
      put: async (epoch, key, value) => (at(epoch), this.put(key, value)),
      delete: async (epoch, key) => (at(epoch), this.delete(key)),
      check: async (epoch) => at(epoch),
    };
  }
  get(key: string): Promise<string | null> {
    this.#stats.gets++;
    return Promise.resolve(this.data.get(key) ?? null);
  }
  put(key: string, value: string): Promise<void> {
    this.#stats.puts++;
    this.data.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.#stats.deletes++;
    this.data.delete(key);
    return Promise.resolve();
  }
  stats(): BackingStoreStats {
    return { ...this.#stats };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** How a cut link fails: at once (refused) or when the call's timeout ends (packets dropped). */
export type CutMode = 'refuse' | 'drop';

/** A held reply: `reached` when the call was served, sent on once `release` is called. */
interface Hold {
  readonly from: string;
  readonly to: string;
  readonly rpc: CacheRpcName;
  readonly reached: () => void;
  readonly released: Promise<void>;
  readonly release: () => void;
}

/** Adds a hold on the next `rpc` from `from` to `to` to `holds`. */
function hold(holds: Hold[], from: string, to: string, rpc: CacheRpcName): { reached: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  holds.push({ from, to, rpc, reached, released, release });
  return { reached: reachedP, release };
}

/** Waits at the next hold in `holds` on `from`→`to` `rpc`, if there is one. */
async function passHold(holds: Hold[], from: string, to: string, rpc: CacheRpcName): Promise<void> {
  const i = holds.findIndex((h) => h.from === from && h.to === to && h.rpc === rpc);
  const h = i >= 0 ? holds.splice(i, 1)[0] : undefined;
  if (!h) return;
  h.reached();
  await h.released;
}

/** Engines of one cluster, connected in memory. */
export class CacheSim {
  readonly engines = new Map<string, CacheEngine>();
  readonly store: BackingStore;
  /** "a>b": calls from a to b fail. */
  readonly #cut = new Map<string, CutMode>();
  readonly #holds: Hold[] = [];
  readonly #requestHolds: Hold[] = [];
  /** Every call made, as `from>to:rpc`. */
  readonly calls: string[] = [];
  /** Each request and each reply waits a random 0..jitterMs ms (reorders messages between links). */
  jitterMs = 0;
  /** The jitter's PRNG (seeded: a failing order can be replayed). */
  #seed = 1;
  #jitter(): Promise<void> | undefined {
    if (this.jitterMs <= 0) return undefined;
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return sleep((this.#seed / 2 ** 31) * this.jitterMs);
  }

  constructor(members: readonly string[], homeOf: (key: string) => string, o: Partial<CacheEngineOptions> & { store?: BackingStore } = {}) {
    this.store = o.store ?? new MemoryStore();
    for (const id of members) this.start(id, members, homeOf, o);
  }

  /** (Re)starts `id` with a fresh engine (a restart loses its lines and directory). */
  start(id: string, members: readonly string[], homeOf: (key: string) => string, o: Partial<CacheEngineOptions> = {}): CacheEngine {
    // The home's preference list: `homeOf(key)` first, then the others in member order.
    const preferenceOf = (key: string): string[] => {
      const home = homeOf(key);
      return [home, ...members.filter((m) => m !== home)];
    };
    const engine = new CacheEngine({ requestTimeoutMs: 2000, leaseMs: 300, ...o, id, members, preferenceOf, store: this.store, peers: this.#peers(id) });
    this.engines.set(id, engine);
    return engine;
  }

  node(id: string): CacheEngine {
    const e = this.engines.get(id);
    if (!e) throw new Error(`no node ${id}`);
    return e;
  }

  /** Cuts both directions between `a` and every other of `b`. */
  isolate(a: string, mode: CutMode = 'refuse'): void {
    for (const b of this.engines.keys()) {
      if (b === a) continue;
      this.#cut.set(`${a}>${b}`, mode);
      this.#cut.set(`${b}>${a}`, mode);
    }
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Holds the next request of `rpc` from `from` to `to` before it is served; `reached` resolves once it is waiting. */
  holdRequest(from: string, to: string, rpc: CacheRpcName): { reached: Promise<void>; release: () => void } {
    return hold(this.#requestHolds, from, to, rpc);
  }

  /** Holds the next reply of `rpc` from `to` to `from`; `reached` resolves once the call is served and waiting. */
  hold(from: string, to: string, rpc: CacheRpcName): { reached: Promise<void>; release: () => void } {
    return hold(this.#holds, from, to, rpc);
  }

  async close(): Promise<void> {
    this.heal();
    for (const h of [...this.#holds, ...this.#requestHolds]) h.release();
    await Promise.all([...this.engines.values()].map((e) => e.close()));
  }

  #peers(from: string): CachePeers {
    return {
      call: async <K extends CacheRpcName>(to: string, rpc: K, req: RpcRequest<K>, timeoutMs: number): Promise<RpcResult<RpcReply<K>>> => {
        this.calls.push(`${from}>${to}:${rpc}`);
        const cut = this.#cut.get(`${from}>${to}`);
        if (cut === 'refuse') return { ok: false, status: 503, error: 'unavailable', message: `${to} is cut off from ${from}`, definite: true };
        if (cut === 'drop') {
          await sleep(timeoutMs);
          return { ok: false, status: 503, error: 'unavailable', message: `no answer from ${to} within ${timeoutMs} ms`, definite: false };
        }
        const target = this.engines.get(to);
        if (!target) return { ok: false, status: 503, error: 'unavailable', message: `${to} is down`, definite: true };
        await passHold(this.#requestHolds, from, to, rpc);
        await this.#jitter();
        const schema = CACHE_RPCS[rpc];
        const parsed = schema.req.parse(JSON.parse(JSON.stringify(req))) as RpcRequest<K>;
        let reply: RpcReply<K>;
        try {
          reply = schema.res.parse(JSON.parse(JSON.stringify(await target.serve(rpc, from, parsed)))) as RpcReply<K>;
        } catch (e) {
          return { ok: false, status: 503, error: 'failed', message: (e as Error).message, definite: false };
        }
        await this.#jitter();
        await passHold(this.#holds, from, to, rpc);
        return { ok: true, reply };
      },
    };
  }
}
