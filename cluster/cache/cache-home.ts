/**
 * The home side of the cache's protocol (`cache-engine.ts` is the node side): for the keys a
 * node homes, the directory (who holds a copy, in which state, until when), the versions of the
 * writes it orders, and main memory. It serves the RPCs sent to a key's home — a read miss, a
 * write or delete, a write-back, `installed`, a sample — each under the key's lock, and reaches
 * holders (this node included) through the `ask` it is given.
 *
 * A holder it cannot reach is waited out: it stops serving once its lease is surely over, which
 * the home counts as `holdMs` after granting it. A restarted home serves nothing for one hold
 * period (its former incarnation's copies run out meanwhile), nor does a node for the keys it
 * becomes the home of when another fails (`home-map.ts`); with a shared store, every access to
 * main memory is fenced by the home map's epoch, so a home that has been replaced grants nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { FP } from '../failpoints.js';
import { errorMessage } from '../errors.js';
import type { BackingStore } from './backing-store.js';
import { CacheFailure, type CacheCounters, type WritePolicy } from './cache-common.js';
import { MAX_HANDOFF_ENTRIES, type CacheRpcName, type Grant, type HandoffReply, type LineView, type RpcReply, type RpcRequest, type SampleReply, type WritebackReply } from './cache-protocol.js';
import { Directory, type Holder } from './directory.js';
import { StaleEpochError, type HomeRouter } from './home-map.js';

/** The shortest timeout of an RPC to a holder, ms (a lease almost over still gets a chance). */
const MIN_RPC_MS = 50;

/** Asks a holder (this node too): its reply, or null when it did not answer in time. */
export type AskHolder = <K extends CacheRpcName>(node: string, rpc: K, req: RpcRequest<K>, timeoutMs: number) => Promise<RpcReply<K> | null>;

/** What a {@link CacheHome} works with: the engine's settings and counters, main memory, and the way to its holders. */
export interface CacheHomeOptions {
  readonly id: string;
  readonly members: readonly string[];
  readonly policy: WritePolicy;
  readonly leaseMs: number;
  /** How long the home counts a copy held after granting it, ms. */
  readonly holdMs: number;
  readonly timeoutMs: number;
  readonly store: BackingStore;
  readonly counters: CacheCounters;
  /** Which keys this node is the home of, and when it may serve them. */
  readonly router: HomeRouter;
  readonly now: () => number;
  readonly onEvent: (event: string, fields: Record<string, unknown>) => void;
  readonly ask: AskHolder;
}

/** The id of a write-back grant the home waits to hear installed. */
const installId = (from: string, key: string, version: number): string => `${from}\u0000${key}\u0000${version}`;

/** The home role of one node. */
export class CacheHome {
  /** This incarnation's id: versions of different incarnations are not compared. */
  readonly inc = randomInt(1, 0xffffffff);
  readonly directory = new Directory();
  /** Set when the node closes: no more home work. */
  closed = false;
  readonly #o: CacheHomeOptions;
  /** The last version this home handed out (one counter for every key it homes). */
  #version = 0;
  /** Write-back grants the home waits to hear installed, by {@link installId}. */
  readonly #awaitingInstall = new Map<string, () => void>();

  constructor(o: CacheHomeOptions) {
    this.#o = o;
  }

  /**
   * Runs `fn` under `key`'s lock as its home, at the home map's epoch of the moment: after the
   * key's grace period (a restart, or a home that failed over here), and only if this node is
   * its home (409 `not-home` otherwise). A fenced store call refused (the map changed since)
   * fails it with 503 `home-moved`, definite: the store did nothing.
   */
  async #acting<T>(key: string, fn: (epoch: number) => Promise<T>): Promise<T> {
    if (this.closed) throw new CacheFailure({ status: 503, body: { error: 'unavailable', message: 'the node is shutting down', definite: true } });
    const { router } = this.#o;
    return this.directory.withKey(key, async () => {
      for (;;) {
        const home = router.homeOf(key);
        if (home !== this.#o.id) {
          throw new CacheFailure({ status: 409, body: { error: 'not-home', message: `${this.#o.id} is not the home of ${JSON.stringify(key)} at home map epoch ${router.view.epoch}`, home, definite: true } });
        }
        const left = router.graceLeft(key);
        if (left <= 0) break;
        await router.pause(left);
      }
      const epoch = router.view.epoch;
      try {
        return await fn(epoch);
      } catch (e) {
        if (!(e instanceof StaleEpochError)) throw e;
        router.learn(e.current);
        this.#o.onEvent('home-moved', { key, epoch, now: e.current.epoch });
        throw new CacheFailure({ status: 503, body: { error: 'home-moved', message: `the home of ${JSON.stringify(key)} moved (home map epoch ${e.current.epoch}); try again`, home: router.homeOf(key), definite: true } });
      }
    });
  }

  /** A grant at `version` (default: the latest this home handed out — for a read, taken under the key's lock). */
  #grant(value: string | null, state: 'M' | 'E' | 'S', version = this.#version): Grant {
    return { value, state, inc: this.inc, version, leaseMs: this.#o.leaseMs };
  }

  async read(from: string, key: string): Promise<Grant> {
    return this.#acting(key, async (epoch) => {
      this.directory.purge(key, this.#o.now());
      const e = this.directory.entry(key);
      let value: string | null | undefined;
      for (const [node, h] of [...e.holders]) {
        // The reader itself may hold it Modified too (write-back): its read was asked for before
        // its write, which the home applied first — the value is then in the reader's line only.
        if ((node === from && this.#o.policy !== 'write-back') || h.state === 'S') continue;
        // Modified or Exclusive elsewhere: it becomes Shared, handing over a dirty value.
        this.#o.counters.downgrades++;
        const r = await this.#revoke(key, node, h, 'downgrade', { key, inc: this.inc, version: this.#version });
        // Not there (null): its lease is over. Holding no line is no proof: a grant may be on its
        // way, which it will install Shared (it remembers the downgrade) — so it stays listed.
        if (r === null) e.holders.delete(node);
        else h.state = 'S';
        if (r?.dirty === true && r.value !== undefined) {
          await this.#storeWrite(epoch, key, r.value);
          this.#o.counters.writebacks++;
          value = r.value;
        }
      }
      value ??= await this.#storeRead(epoch, key);
      e.holders.delete(from);
      const state = e.holders.size > 0 ? 'S' : 'E';
      e.holders.set(from, { state, until: this.#o.now() + this.#o.holdMs, version: this.#version });
      return this.#grant(value, state);
    });
  }

  async write(from: string, key: string, value: string | null, keep: boolean): Promise<Grant> {
    return this.#acting(key, async (epoch) => {
      this.directory.purge(key, this.#o.now());
      const e = this.directory.entry(key);
      const version = ++this.#version;
      const others = [...e.holders].filter(([node]) => node !== from);
      this.#o.counters.invalidationsSent += others.length;
      const invalidate = async ([node, h]: [string, Holder]): Promise<void> => {
        await this.#revoke(key, node, h, 'invalidate', { key, inc: this.inc, version });
      };
      if (FP['cache.skip-invalidation-acks']) {
        for (const o of others) void this.#o.ask(o[0], 'invalidate', { key, inc: this.inc, version }, this.#o.timeoutMs);
      } else {
        await Promise.all(others.map(invalidate));
      }
      for (const [node] of others) e.holders.delete(node);
      e.holders.delete(from);
      if (value === null || this.#o.policy === 'write-through') await this.#storeWrite(epoch, key, value);
      // Write-back: nothing reaches main memory, yet a replaced home must not grant the line.
      else await this.#o.store.fencing?.check(epoch);
      if (keep) e.holders.set(from, { state: 'M', until: this.#o.now() + this.#o.holdMs, version });
      else this.directory.purge(key, this.#o.now());
      if (keep && value !== null && this.#o.policy === 'write-back') {
        // The value lives only in the writer's line once it gets there: keep the key busy until
        // the writer says it holds it (or for one hold period), so that no read's downgrade can
        // overtake the grant and find nothing to hand over.
        let done!: () => void;
        const installed = new Promise<void>((r) => (done = r));
        const timer = setTimeout(() => {
          this.#o.onEvent('install-not-heard', { key, node: from, version });
          done();
        }, this.#o.holdMs);
        timer.unref();
        const id = installId(from, key, version);
        this.#awaitingInstall.set(id, () => {
          clearTimeout(timer);
          done();
        });
        this.directory.holdAfter(key, installed.finally(() => this.#awaitingInstall.delete(id)));
      }
      // The write's own version: writes of other keys may have moved the counter meanwhile.
      return this.#grant(value, 'M', version);
    });
  }

  async writeback(from: string, r: RpcRequest<'writeback'>): Promise<WritebackReply> {
    return this.#acting(r.key, async (epoch) => {
      this.directory.purge(r.key, this.#o.now());
      const h = this.directory.peek(r.key)?.holders.get(from);
      // Only the copy this home granted last may write back (Shared only when a downgrade overtook its grant).
      if (r.inc !== this.inc || !h || h.version !== r.version) return { accepted: false };
      await this.#storeWrite(epoch, r.key, r.value);
      this.#o.counters.writebacks++;
      if (!r.renew) {
        this.directory.entry(r.key).holders.delete(from);
        this.directory.purge(r.key, this.#o.now());
        return { accepted: true };
      }
      if (h.state !== 'S') h.state = 'E';
      h.until = this.#o.now() + this.#o.holdMs;
      return { accepted: true, grant: { value: r.value, state: h.state, inc: this.inc, version: h.version, leaseMs: this.#o.leaseMs } };
    });
  }

  async sample(key: string): Promise<SampleReply> {
    return this.#acting(key, async (epoch) => {
      const now = this.#o.now();
      this.directory.purge(key, now);
      const stored = await this.#storeRead(epoch, key);
      const directory = [...(this.directory.peek(key)?.holders ?? [])].map(([node, h]) => ({ node, state: h.state, leaseLeftMs: Math.round(h.until - now) }));
      const unreachable: string[] = [];
      const lines: LineView[] = [];
      const timeout = Math.min(1000, this.#o.timeoutMs);
      await Promise.all(
        this.#o.members.map(async (node) => {
          const r = await this.#o.ask(node, 'peek', { key }, timeout);
          if (r === null) unreachable.push(node);
          else lines.push(r);
        }),
      );
      lines.sort((a, b) => a.node.localeCompare(b.node));
      unreachable.sort();
      return { key, home: this.#o.id, inc: this.inc, version: this.#version, stored, directory, lines, unreachable };
    });
  }

  /**
   * Asks `node` to invalidate or downgrade its copy; if it cannot be reached, waits until its
   * lease is surely over (it then serves the copy no more). Null when it did not answer.
   */
  async #revoke<K extends 'invalidate' | 'downgrade'>(key: string, node: string, h: Holder, rpc: K, req: RpcRequest<K>): Promise<RpcReply<K> | null> {
    const left = h.until - this.#o.now();
    const reply = await this.#o.ask(node, rpc, req, Math.max(MIN_RPC_MS, Math.min(left, this.#o.timeoutMs)));
    if (reply !== null) return reply;
    const wait = h.until - this.#o.now();
    this.#o.counters.leaseWaits++;
    this.#o.onEvent('lease-wait', { key, node, rpc, waitMs: Math.max(0, Math.round(wait)) });
    if (wait > 0) await sleep(wait);
    return null;
  }

  /**
   * As a former home, hands `to` — the home of some of this node's keys under the map at `epoch`,
   * which this node knows — its directory entries of those keys. Each is taken under the key's
   * lock, so an operation that got past the fence before the map changed has listed its grant
   * by then; later ones are refused (not the home; fenced). `complete: false` when this node's
   * map is not at `epoch` or there are too many entries: the new home then waits a hold period.
   */
  async handoff(to: string, epoch: number): Promise<HandoffReply> {
    const { router } = this.#o;
    const incomplete: HandoffReply = { complete: false, entries: [] };
    if (router.view.epoch !== epoch) return incomplete;
    const keys = this.directory.keys().filter((k) => router.homeOf(k) === to);
    if (keys.length > MAX_HANDOFF_ENTRIES) return incomplete;
    const entries: HandoffReply['entries'] = [];
    await Promise.all(
      keys.map((key) =>
        this.directory.withKey(key, async () => {
          const now = this.#o.now();
          this.directory.purge(key, now);
          const holders = [...(this.directory.peek(key)?.holders ?? [])].map(([node, h]) => ({ node, state: h.state, leftMs: Math.ceil(h.until - now) }));
          if (holders.length > 0) entries.push({ key, holders });
        }),
      ),
    );
    if (router.view.epoch !== epoch) return incomplete;
    this.#o.onEvent('handed-off', { to, epoch, keys: entries.length });
    return { complete: true, entries };
  }

  /**
   * As the new home, lists the copies a former home handed over (see {@link handoff}) as its
   * own: each until its lease is surely over, counted with the drift stretch from now; a holder
   * listed already keeps the stronger state and the later end.
   */
  adopt(entries: HandoffReply['entries']): void {
    const now = this.#o.now();
    const stretch = this.#o.holdMs / this.#o.leaseMs;
    const strength = { S: 0, E: 1, M: 2 } as const;
    for (const { key, holders } of entries) {
      const e = this.directory.entry(key);
      for (const h of holders) {
        const until = now + h.leftMs * stretch;
        const mine = e.holders.get(h.node);
        const state = mine && strength[mine.state] > strength[h.state] ? mine.state : h.state;
        // Version 0: no grant of this home, so a write-back of it is refused (it is not this home's to take).
        e.holders.set(h.node, { state, until: Math.max(until, mine?.until ?? 0), version: mine?.version ?? 0 });
      }
    }
  }

  /** Write-back: `from` holds the Modified grant of `version` now; the key may go on. */
  installed(from: string, key: string, version: number): Record<string, never> {
    this.#awaitingInstall.get(installId(from, key, version))?.();
    return {};
  }


  /** Main memory's value (503 `store-unavailable` when it cannot be read), fenced at `epoch` when the store can fence. */
  async #storeRead(epoch: number, key: string): Promise<string | null> {
    const { store } = this.#o;
    try {
      return await (store.fencing ? store.fencing.get(epoch, key) : store.get(key));
    } catch (e) {
      if (e instanceof StaleEpochError) throw e;
      throw new CacheFailure({ status: 503, body: { error: 'store-unavailable', message: `reading ${JSON.stringify(key)} from the ${this.#o.store.kind} store failed: ${errorMessage(e)}`, definite: true } });
    }
  }

  /** Writes main memory (503 `store-unavailable`, indefinite, when that fails), fenced at `epoch` when the store can fence. */
  async #storeWrite(epoch: number, key: string, value: string | null): Promise<void> {
    const { store } = this.#o;
    const f = store.fencing;
    try {
      if (value === null) await (f ? f.delete(epoch, key) : store.delete(key));
      else await (f ? f.put(epoch, key, value) : store.put(key, value));
    } catch (e) {
      if (e instanceof StaleEpochError) throw e;
      throw new CacheFailure({ status: 503, body: { error: 'store-unavailable', message: `writing ${JSON.stringify(key)} to the ${this.#o.store.kind} store failed: ${errorMessage(e)}`, definite: false } });
    }
  }
}
