/**
 * The cache's coherence engine on one node: MESI with a directory at each key's home, leases,
 * and a backing store ("main memory"). Transport-neutral: the node's routes call the client
 * operations (`read`, `write`, `delete`, `sample`) and hand it the RPCs peers send (`serve`); it
 * sends its own through a {@link CachePeers}.
 *
 * - **Read hit**: a line whose lease has not run out is served from memory.
 * - **Read miss**: ask the home. If another node holds the line Modified (or Exclusive) the home
 *   asks it to downgrade to Shared, handing over a dirty value, which the home writes to the
 *   store; otherwise the value comes from the store. The copy is Exclusive if no one else holds
 *   it, else Shared.
 * - **Write**: the home invalidates every other copy and waits for every acknowledgement (or,
 *   for a holder it cannot reach, for its lease to be surely over) before the writer holds the
 *   line Modified. `write-through` writes the store before answering; `write-back` leaves the
 *   value in the writer's line (dirty) until it is evicted, downgraded or its lease is renewed —
 *   a crash of that node loses it. In write-back a write to a valid Exclusive or Modified line
 *   is done in place, without the home (MESI's silent E→M upgrade).
 * - **Delete**: a write of "no value" that no one keeps; the store's key is deleted.
 * - **Leases**: a copy is served for `leaseMs` from when its holder *sent* the request (so before
 *   the home granted it); the home counts it held for `leaseMs·(1+ρ)/(1−ρ)` plus a margin from
 *   when it *granted* it, where ρ is the assumed bound on clock-rate drift between nodes. So once
 *   the home's count is over, the holder has surely stopped serving it, whatever happened to the
 *   network. Monotonic clocks (`performance.now()`); a paused process sees its leases expired.
 * - **A restarted home** has lost its directory: it serves nothing for one hold period (every
 *   copy its former incarnation granted has then run out — all copies are dropped, which is safe).
 * - **A dead home** (main memory shared: Redis): the next node of each of its keys' preference
 *   lists becomes their home, with an empty directory, one hold period after the home map
 *   changed; the map fences main memory, so the old home, if it is alive, grants nothing more
 *   (`home-map.ts`, `home-failover.ts`).
 *
 * Failpoints (test aids): `cache.skip-invalidation-acks` (the home does not wait for
 * invalidations to be acknowledged, nor for unreachable holders' leases), `cache.serve-after-lease`
 * (a node serves a copy whose lease has run out).
 */
import { FP } from '../failpoints.js';
import { errorMessage } from '../errors.js';
import type { BackingStore } from './backing-store.js';
import { CacheFailure, type CacheCounters, type WritePolicy } from './cache-common.js';
import { CacheHome } from './cache-home.js';
import { FailoverMonitor } from './home-failover.js';
import { HomeRouter, type HomeView, type Takeover } from './home-map.js';
import {
  CACHE_RPCS,
  type CachePeers,
  type CacheRpcName,
  type DowngradeReply,
  type Grant,
  type InvalidateReply,
  type LineView,
  type RpcReply,
  type RpcRequest,
  type SampleReply,
  type SeenState,
  type WritebackReply,
} from './cache-protocol.js';
import { LineTable, type Line } from './line-table.js';

export { CacheFailure, WRITE_POLICIES, type CacheCounters, type WritePolicy } from './cache-common.js';

/** Options of a {@link CacheEngine}. */
export interface CacheEngineOptions {
  readonly id: string;
  /** Every member, this one included. */
  readonly members: readonly string[];
  /** Every member in a key's preference order (the ring's list, all members long): its home is the first not marked down. */
  readonly preferenceOf: (key: string) => readonly string[];
  readonly store: BackingStore;
  readonly peers: CachePeers;
  /** @default 'write-through' */
  readonly policy?: WritePolicy;
  /** How long a holder serves a copy, ms. @default 2000 */
  readonly leaseMs?: number;
  /** ρ, the assumed bound on the drift of clock rates between nodes (0.01 = 1 %). @default 0.01 */
  readonly driftBound?: number;
  /** Most lines held. @default 100000 */
  readonly maxEntries?: number;
  /** Most bytes held (keys and values, UTF-16, plus 64 per line). @default 64 MiB */
  readonly maxBytes?: number;
  /** How long a request may wait for the home or a holder, ms. */
  readonly requestTimeoutMs: number;
  /** This node was a home before (its data dir says so): serve as a home only after one hold period. @default false */
  readonly restarted?: boolean;
  /** The home map at start-up (read from main memory). @default epoch 0, no node down */
  readonly homeView?: HomeView;
  /**
   * Moves a dead home's keys to other nodes: a member not heard from for `afterMs` is marked
   * down, probing every `probeMs`. Only with a store that can fence (Redis). @default off
   */
  readonly failover?: { readonly afterMs: number; readonly probeMs: number };
  readonly now?: () => number;
  /** Notes what a caller may want to log (e.g. a dirty line that could not be written back). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

/** Added to the home's count of a lease, ms: covers the time a grant takes to leave the home. */
const LEASE_MARGIN_MS = 20;

/** A client read's outcome. */
export interface ReadResult {
  readonly value: string | null;
  readonly state: SeenState;
  readonly hit: boolean;
}

/** The cache on one node. */
export class CacheEngine {
  readonly id: string;
  readonly policy: WritePolicy;
  readonly leaseMs: number;
  readonly driftBound: number;
  /** How long the home counts a copy held after granting it, ms. */
  readonly holdMs: number;
  /** This node as the home of its keys: the directory, versions and main memory. */
  readonly home: CacheHome;
  /** Which node is each key's home. */
  readonly router: HomeRouter;
  /** The failure detector that changes the home map (when fail-over is on). */
  readonly failover: FailoverMonitor | undefined;
  readonly counters: CacheCounters = {
    hits: 0,
    misses: 0,
    leaseExpiries: 0,
    invalidationsSent: 0,
    invalidationsReceived: 0,
    downgrades: 0,
    writebacks: 0,
    writebacksLost: 0,
    evictions: 0,
    leaseWaits: 0,
    localWrites: 0,
  };
  readonly lines: LineTable;
  readonly #store: BackingStore;
  readonly #peers: CachePeers;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #onEvent: (event: string, fields: Record<string, unknown>) => void;
  /** Per key, the start of the latest write sent from here: a read grant asked for before it is not installed. */
  readonly #fences = new Map<string, number>();
  /** Per key, the end of the writes from this node in flight (see #serialWrite). */
  readonly #writing = new Map<string, Promise<void>>();
  /** Dirty lines being written back, by key (a downgrade during the write-back still finds the value). */
  readonly #writingBack = new Map<string, Line>();
  /** Keys of dirty lines (write-back), for the lease renewal sweep. */
  readonly #dirty = new Set<string>();
  readonly #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(o: CacheEngineOptions) {
    this.id = o.id;
    this.#store = o.store;
    this.#peers = o.peers;
    this.policy = o.policy ?? 'write-through';
    this.leaseMs = o.leaseMs ?? 2000;
    this.driftBound = o.driftBound ?? 0.01;
    if (!(this.driftBound >= 0 && this.driftBound < 0.5)) throw new RangeError(`driftBound must be in [0, 0.5), got ${this.driftBound}`);
    if (!(Number.isInteger(this.leaseMs) && this.leaseMs > 0)) throw new RangeError(`leaseMs must be a positive integer, got ${this.leaseMs}`);
    this.holdMs = Math.ceil((this.leaseMs * (1 + this.driftBound)) / (1 - this.driftBound)) + LEASE_MARGIN_MS;
    this.#timeoutMs = o.requestTimeoutMs;
    this.#now = o.now ?? (() => performance.now());
    this.#onEvent = o.onEvent ?? (() => undefined);
    this.router = new HomeRouter({
      id: o.id,
      members: o.members,
      preferenceOf: o.preferenceOf,
      holdMs: this.holdMs,
      now: this.#now,
      restarted: o.restarted === true,
      ...(o.homeView ? { view: o.homeView } : {}),
      onTakeover: (t) => void this.#takeOver(t),
    });
    this.home = new CacheHome({
      id: o.id,
      members: o.members,
      policy: this.policy,
      leaseMs: this.leaseMs,
      holdMs: this.holdMs,
      timeoutMs: this.#timeoutMs,
      store: o.store,
      counters: this.counters,
      router: this.router,
      now: this.#now,
      onEvent: this.#onEvent,
      ask: (node, rpc, req, timeoutMs) => this.#send(node, rpc, req, timeoutMs),
    });
    this.lines = new LineTable({
      maxEntries: o.maxEntries ?? 100_000,
      maxBytes: o.maxBytes ?? 64 * 1024 * 1024,
      onEvict: (key, line) => this.#evicted(key, line),
    });
    const every = Math.max(10, Math.floor(this.leaseMs / 4));
    this.#sweep = setInterval(() => this.#housekeep(), every);
    this.#sweep.unref();
    const fencing = o.store.fencing;
    if (o.failover !== undefined && fencing === undefined) throw new RangeError(`fail-over needs a store shared by every node (redis); the ${o.store.kind} store is on its home's disk`);
    this.failover =
      o.failover === undefined || fencing === undefined
        ? undefined
        : new FailoverMonitor({
            id: o.id,
            members: o.members,
            fencing,
            router: this.router,
            ping: async (node, timeoutMs) => (await this.#send(node, 'ping', {}, timeoutMs)) !== null,
            afterMs: o.failover.afterMs,
            probeMs: o.failover.probeMs,
            now: this.#now,
            onEvent: this.#onEvent,
          });
    this.failover?.start();
  }

  /** The home of `key` as this node knows it. */
  homeOf(key: string): string {
    return this.router.homeOf(key);
  }

  // ————— client operations —————

  /** Reads `key`: from a valid copy here (a hit), else through its home — after this node's writes of it in flight. */
  async read(key: string): Promise<ReadResult> {
    const writing = this.#writing.get(key);
    if (writing) await writing;
    const line = this.lines.get(key);
    if (line) {
      if (this.#now() < line.leaseUntil || FP['cache.serve-after-lease']) {
        this.counters.hits++;
        return { value: line.value, state: line.state, hit: true };
      }
      this.counters.leaseExpiries++;
      this.lines.delete(key);
      this.#dirty.delete(key);
      // A dirty copy whose lease ran out: write it back first (the home still lists it, unless
      // it gave up on this node), and serve it again if the home renews it.
      if (line.dirty && (await this.#writeBack(key, line, true))) {
        this.counters.hits++;
        return { value: line.value, state: line.state, hit: true };
      }
    }
    this.counters.misses++;
    const t0 = this.#now();
    const g = await this.#toHome(key, 'read', { key });
    this.#install(key, g, t0, false);
    return { value: g.value, state: g.state, hit: false };
  }

  /**
   * Runs `fn` after every earlier write of `key` from this node has finished. One write per key
   * at a time from a node: the home excludes the writer from a write's invalidations (its grant
   * replaces the writer's copy), which is only sound if the writer's grants arrive in the home's
   * order — two writes in flight from one node may be answered in either order.
   */
  async #serialWrite<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#writing.get(key);
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = (before ?? Promise.resolve()).then(() => mine);
    this.#writing.set(key, tail);
    if (before) await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.#writing.get(key) === tail) this.#writing.delete(key);
    }
  }

  /** Writes `key` (JSON text); answers once the writer holds the line Modified (and, write-through, the store has it). */
  write(key: string, value: string): Promise<{ state: 'M'; local: boolean }> {
    return this.#serialWrite(key, () => this.#write(key, value));
  }

  async #write(key: string, value: string): Promise<{ state: 'M'; local: boolean }> {
    const line = this.lines.get(key);
    if (this.policy === 'write-back' && line && (line.state === 'M' || line.state === 'E') && this.#now() < line.leaseUntil) {
      line.value = value;
      line.state = 'M';
      line.dirty = true;
      this.lines.resize(key, line);
      this.#dirty.add(key);
      this.counters.localWrites++;
      return { state: 'M', local: true };
    }
    const t0 = this.#startWrite(key);
    const superseded = this.#writingBack.get(key);
    let g: Grant;
    try {
      g = await this.#toHome(key, 'write', { key, value, keep: true });
    } finally {
      if (superseded && this.#writingBack.get(key) === superseded) this.#writingBack.delete(key);
    }
    const installed = this.#install(key, g, t0, this.policy === 'write-back');
    if (this.policy === 'write-back') {
      // The home keeps the key busy until it hears this (see #homeWrite); not worth waiting for.
      this.#toHome(key, 'installed', { key, inc: g.inc, version: g.version }).catch(() => undefined);
    }
    if (installed === undefined && this.policy === 'write-back' && !this.lines.outdated(key, g.inc, g.version)) {
      // Not superseded, yet not kept (its lease ran out on the way): the value lives nowhere.
      throw new CacheFailure({ status: 503, body: { error: 'unavailable', message: `the grant for the write of ${JSON.stringify(key)} came back after its lease: the value was not kept (write-back)`, home: this.homeOf(key), definite: false } });
    }
    if (installed?.dirty === true && installed.state === 'S') {
      // Write-back, and a read elsewhere downgraded the line before its grant got here: the home
      // read the store then, so the value must reach the store before the write is answered.
      if (!(await this.#writeBack(key, installed, true))) {
        throw new CacheFailure({ status: 503, body: { error: 'unavailable', message: `the write of ${JSON.stringify(key)} was downgraded on its way and could not be written back to its home`, home: this.homeOf(key), definite: false } });
      }
    }
    return { state: 'M', local: false };
  }

  /** Deletes `key` everywhere and from the store. */
  delete(key: string): Promise<void> {
    return this.#serialWrite(key, () => this.#delete(key));
  }

  async #delete(key: string): Promise<void> {
    const t0 = this.#startWrite(key);
    const superseded = this.#writingBack.get(key);
    let g: Grant;
    try {
      g = await this.#toHome(key, 'write', { key, value: null, keep: false });
    } finally {
      if (superseded && this.#writingBack.get(key) === superseded) this.#writingBack.delete(key);
    }
    // A write of ours granted before this delete but answered after it started is older: gone too.
    this.lines.tomb(key, g.inc, g.version, t0);
    this.#dropOlder(key, g.inc, g.version);
  }

  /** Drops this node's line of `key` if it is older than (`inc`, `version`). */
  #dropOlder(key: string, inc: number, version: number): void {
    const line = this.lines.peek(key);
    if (line && (line.inc !== inc || line.version < version)) this.#forget(key);
  }

  /** Drops this node's copy of `key`: its line, and a dirty value of it on its way back (superseded). */
  #forget(key: string): void {
    this.lines.delete(key);
    this.#dirty.delete(key);
    this.#writingBack.delete(key);
  }

  /** The directory's view of `key` and every node's line, taken at its home under the key's lock. */
  sample(key: string): Promise<SampleReply> {
    return this.#toHome(key, 'sample', { key });
  }

  /**
   * A write leaves from here: this node's own copy goes first (were the answer lost after the
   * home applied it, the old copy must not be served), and no read grant asked for before now
   * is installed (the home may have granted it before this write).
   */
  #startWrite(key: string): number {
    const t0 = this.#now();
    const line = this.lines.peek(key);
    this.#forget(key);
    // Write-back: a dirty copy stays on hand for a downgrade until the home has applied this
    // write (a read the home serves before it must still get that acknowledged value).
    if (line?.dirty === true) this.#writingBack.set(key, line);
    this.#fences.set(key, t0);
    return t0;
  }

  /**
   * Installs a grant asked for at `t0`, unless a write from here started after it was asked for,
   * or an invalidation or a newer line overtook it; a grant overtaken by a downgrade is installed
   * Shared. The line, if installed.
   */
  #install(key: string, g: Grant, t0: number, dirty: boolean): Line | undefined {
    if (this.#closed) return undefined;
    const fence = this.#fences.get(key);
    if (fence !== undefined && t0 < fence) return undefined;
    if (this.lines.outdated(key, g.inc, g.version)) return undefined;
    const leaseUntil = t0 + g.leaseMs;
    if (leaseUntil <= this.#now()) {
      if (g.state === 'M') this.#dropOlder(key, g.inc, g.version);
      return undefined;
    }
    const state = g.state !== 'S' && this.lines.downgraded(key, g.inc, g.version) ? 'S' : g.state;
    this.#writingBack.delete(key); // an older dirty value on its way to the home is superseded
    const line: Line = { state, value: g.value, inc: g.inc, version: g.version, leaseUntil, dirty };
    this.lines.set(key, line);
    if (dirty) this.#dirty.add(key);
    else this.#dirty.delete(key);
    return line;
  }

  /**
   * Sends `rpc` to the home of `key` (or runs it here when this node is the home). When the home
   * has moved (409 `not-home`, 503 `home-moved`: both say it did nothing), the home map is read
   * again and the call goes to the new home, twice at most.
   */
  async #toHome<K extends 'read' | 'write' | 'writeback' | 'sample' | 'installed'>(key: string, rpc: K, req: RpcRequest<K>): Promise<RpcReply<K>> {
    for (let attempt = 0; ; attempt++) {
      const home = this.homeOf(key);
      let failure: CacheFailure;
      if (home === this.id) {
        try {
          return await this.serve(rpc, this.id, req);
        } catch (e) {
          if (!(e instanceof CacheFailure)) throw e;
          failure = e;
        }
      } else {
        const r = await this.#peers.call(home, rpc, req, this.#timeoutMs);
        if (r.ok) return r.reply;
        failure = new CacheFailure({ status: r.status, body: { error: r.error, message: r.message, home, definite: r.definite } });
      }
      const moved = failure.reply.body['error'] === 'not-home' || failure.reply.body['error'] === 'home-moved';
      if (!moved) throw failure;
      await this.#refreshHomes();
      if (attempt >= 2 || this.homeOf(key) === home) {
        throw new CacheFailure({ status: 503, body: { error: 'home-moved', message: `the home of ${JSON.stringify(key)} is moving (home map epoch ${this.router.view.epoch}): ${failure.message}`, home: this.homeOf(key), definite: true } });
      }
    }
  }

  /**
   * This node became the home of keys: asks each node that may have been their home for its
   * directory entries of them; those it gets are listed here, and that node's keys are served at
   * once instead of one hold period later.
   */
  async #takeOver(t: Takeover): Promise<void> {
    const timeout = Math.max(50, Math.min(this.#timeoutMs, this.holdMs / 2));
    await Promise.all(
      t.from.map(async (node) => {
        const r = await this.#send(node, 'handoff', { epoch: t.epoch }, timeout).catch(() => null);
        if (r?.complete !== true || this.#closed) return;
        this.home.adopt(r.entries);
        this.router.handedOff(t.epoch, node);
        this.#onEvent('taken-over', { from: node, epoch: t.epoch, keys: r.entries.length });
      }),
    );
  }

  /** Reads the home map again (a shared store only); true when this node's view changed. */
  async #refreshHomes(): Promise<boolean> {
    const fencing = this.#store.fencing;
    if (fencing === undefined) return false;
    try {
      return this.router.learn(await fencing.read());
    } catch (e) {
      this.#onEvent('home-map-read-failed', { err: errorMessage(e) });
      return false;
    }
  }

  // ————— the RPCs a node serves —————

  /** Serves an RPC `from` a node (this one for its own keys): the request is already validated. */
  serve<K extends CacheRpcName>(rpc: K, from: string, req: RpcRequest<K>): Promise<RpcReply<K>> {
    type Handlers = { [N in CacheRpcName]: (from: string, req: RpcRequest<N>) => Promise<RpcReply<N>> };
    const handlers: Handlers = {
      read: (f, r) => this.home.read(f, r.key),
      write: (f, r) => this.home.write(f, r.key, r.value, r.keep),
      writeback: (f, r) => this.home.writeback(f, r),
      sample: (_f, r) => this.home.sample(r.key),
      installed: (f, r) => Promise.resolve(this.home.installed(f, r.key, r.version)),
      invalidate: (_f, r) => Promise.resolve(this.#onInvalidate(r.key, r.inc, r.version)),
      downgrade: (_f, r) => Promise.resolve(this.#onDowngrade(r.key, r.inc, r.version)),
      peek: (_f, r) => Promise.resolve(this.#view(r.key)),
      ping: () => Promise.resolve({}),
      handoff: async (f, r) => {
        if (r.epoch > this.router.view.epoch) await this.#refreshHomes();
        return this.home.handoff(f, r.epoch);
      },
    };
    const handler = handlers[rpc] as (from: string, req: RpcRequest<K>) => Promise<RpcReply<K>>;
    if (!CACHE_RPCS[rpc].toHome) return handler(from, req);
    const { key } = req as RpcRequest<'read'>;
    // A sender that knows a newer home map than this node: learn it before deciding (the home
    // checks again under the key's lock, and a stale map cannot touch main memory anyway).
    if (this.homeOf(key) !== this.id) return this.#refreshHomes().then(() => handler(from, req));
    return handler(from, req);
  }

  /** An RPC to a node (this one too); null when it did not answer (or answered an error). */
  async #send<K extends CacheRpcName>(node: string, rpc: K, req: RpcRequest<K>, timeoutMs: number): Promise<RpcReply<K> | null> {
    if (node === this.id) return this.serve(rpc, this.id, req).catch(() => null);
    const r = await this.#peers.call(node, rpc, req, timeoutMs);
    return r.ok ? r.reply : null;
  }

  #onInvalidate(key: string, inc: number, version: number): InvalidateReply {
    this.counters.invalidationsReceived++;
    this.lines.tomb(key, inc, version, this.#now());
    const line = this.lines.peek(key);
    // A dirty copy being written back: the write overrides it; the home will refuse the write-back.
    if (!line) {
      this.#writingBack.delete(key); // an evicted dirty value the write overrides: never hand it over
      return { had: 'I' };
    }
    if (line.inc === inc && line.version >= version) return { had: 'I' };
    this.#forget(key);
    return { had: line.state };
  }

  #onDowngrade(key: string, inc: number, version: number): DowngradeReply {
    this.lines.downgrade(key, inc, version, this.#now());
    const line = this.lines.peek(key);
    if (!line) {
      const wb = this.#writingBack.get(key);
      return wb ? { held: false, dirty: true, value: wb.value } : { held: false, dirty: false };
    }
    const reply: DowngradeReply = line.dirty ? { held: true, dirty: true, value: line.value } : { held: true, dirty: false };
    line.state = 'S';
    line.dirty = false;
    this.#dirty.delete(key);
    return reply;
  }

  #view(key: string): LineView {
    const line = this.lines.peek(key);
    if (!line) return { node: this.id, state: 'I' };
    return { node: this.id, state: line.state, value: line.value, inc: line.inc, version: line.version, dirty: line.dirty, leaseLeftMs: Math.round(line.leaseUntil - this.#now()) };
  }

  // ————— write-back of dirty lines —————

  /**
   * Writes a dirty line back to its home: evicted (`renew` false) or its lease ending (`renew`:
   * the home grants a fresh Exclusive lease). False when the home refused or could not be
   * reached: the value is lost (write-back's price).
   */
  async #writeBack(key: string, line: Line, renew: boolean): Promise<boolean> {
    const sent = line.value;
    const t0 = this.#now();
    this.#writingBack.set(key, line);
    let reply: WritebackReply | null = null;
    try {
      reply = await this.#toHome(key, 'writeback', { key, value: sent, inc: line.inc, version: line.version, renew });
    } catch (e) {
      this.#onEvent('writeback-failed', { key, err: errorMessage(e) });
    } finally {
      if (this.#writingBack.get(key) === line) this.#writingBack.delete(key);
    }
    if (!reply?.accepted) {
      this.counters.writebacksLost++;
      this.#onEvent('writeback-lost', { key, version: line.version });
      if (this.lines.peek(key) === line) this.lines.delete(key);
      this.#dirty.delete(key);
      return false;
    }
    if (!renew || !reply.grant) return true;
    // Renewed: clean unless written again meanwhile (in place), and served for a fresh lease.
    if (line.value === sent) {
      line.dirty = false;
      line.state = reply.grant.state;
      this.#dirty.delete(key);
    }
    line.leaseUntil = t0 + reply.grant.leaseMs;
    if (this.lines.peek(key) !== line && !this.#closed) {
      if (!this.lines.outdated(key, line.inc, line.version)) {
        this.lines.set(key, line);
        if (line.dirty) this.#dirty.add(key);
      }
    }
    return true;
  }

  #evicted(key: string, line: Line): void {
    this.counters.evictions++;
    this.#dirty.delete(key);
    if (line.dirty) void this.#writeBack(key, line, false);
  }

  /** Renews dirty lines whose lease is half over; forgets old fences, tombstones and holders. */
  #housekeep(): void {
    const now = this.#now();
    for (const key of [...this.#dirty]) {
      const line = this.lines.peek(key);
      if (!line?.dirty) {
        this.#dirty.delete(key);
        continue;
      }
      if (line.leaseUntil - now < this.leaseMs / 2 && !this.#writingBack.has(key)) void this.#writeBack(key, line, true);
    }
    const keep = this.holdMs + this.#timeoutMs;
    for (const [key, at] of this.#fences) if (now - at > keep) this.#fences.delete(key);
    this.lines.prune(now, keep);
    this.home.directory.purgeAll(now);
  }

  /** Line and directory counts, for metrics and `/status`. */
  stats(): { lines: number; bytes: number; states: Record<'M' | 'E' | 'S', number>; directoryKeys: number; tombstones: number; dirty: number } {
    return { lines: this.lines.size, bytes: this.lines.bytes, states: this.lines.counts(), directoryKeys: this.home.directory.size, tombstones: this.lines.tombstones, dirty: this.#dirty.size };
  }

  /** Stops the sweep and writes dirty lines back (best effort, bounded by the request timeout). */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#sweep);
    const dirty = [...this.#dirty].map((k) => [k, this.lines.peek(k)] as const).filter((x): x is readonly [string, Line] => x[1]?.dirty === true);
    await Promise.all(dirty.map(([k, line]) => this.#writeBack(k, line, false)));
    await this.failover?.stop();
    this.#closed = true;
    this.home.closed = true;
  }
}
