/**
 * The home side of the cache's protocol (`cache-engine.ts` is the node side): for the keys a
 * node homes, the directory (who holds a copy, in which state, until when), the versions of the
 * writes it orders, and main memory. It serves the RPCs sent to a key's home — a read miss, a
 * write or delete, a write-back, `installed`, a sample — each under the key's lock, and reaches
 * holders (this node included) through the `ask` it is given.
 *
 * A holder it cannot reach is waited out: it stops serving once its lease is surely over, which
 * the home counts as `holdMs` after granting it. A restarted home serves nothing for one hold
 * period (its former incarnation's copies run out meanwhile).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { FP } from '../failpoints.js';
import { errorMessage } from '../errors.js';
import type { BackingStore } from './backing-store.js';
import { CacheFailure, type CacheCounters, type WritePolicy } from './cache-common.js';
import type { CacheRpcName, Grant, LineView, RpcReply, RpcRequest, SampleReply, WritebackReply } from './cache-protocol.js';
import { Directory, type Holder } from './directory.js';

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
  /** The node was a home before: it serves as a home only after one hold period. */
  readonly restarted: boolean;
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
  /** Before it, this node does not act as a home (a restart: its former copies may still be served). */
  readonly #graceUntil: number;
  /** Write-back grants the home waits to hear installed, by {@link installId}. */
  readonly #awaitingInstall = new Map<string, () => void>();

  constructor(o: CacheHomeOptions) {
    this.#o = o;
    this.#graceUntil = o.restarted ? o.now() + o.holdMs : 0;
  }

  /** Waits out the grace period of a restarted home (bounded by one hold period). */
  async #ready(): Promise<void> {
    if (this.closed) throw new CacheFailure({ status: 503, body: { error: 'unavailable', message: 'the node is shutting down', definite: true } });
    const left = this.#graceUntil - this.#o.now();
    if (left > 0) await sleep(left);
  }

  /** A grant at `version` (default: the latest this home handed out — for a read, taken under the key's lock). */
  #grant(value: string | null, state: 'M' | 'E' | 'S', version = this.#version): Grant {
    return { value, state, inc: this.inc, version, leaseMs: this.#o.leaseMs };
  }

  async read(from: string, key: string): Promise<Grant> {
    await this.#ready();
    return this.directory.withKey(key, async () => {
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
          await this.#storeWrite(key, r.value);
          this.#o.counters.writebacks++;
          value = r.value;
        }
      }
      value ??= await this.#storeRead(key);
      e.holders.delete(from);
      const state = e.holders.size > 0 ? 'S' : 'E';
      e.holders.set(from, { state, until: this.#o.now() + this.#o.holdMs, version: this.#version });
      return this.#grant(value, state);
    });
  }

  async write(from: string, key: string, value: string | null, keep: boolean): Promise<Grant> {
    await this.#ready();
    return this.directory.withKey(key, async () => {
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
      if (value === null || this.#o.policy === 'write-through') await this.#storeWrite(key, value);
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
    await this.#ready();
    return this.directory.withKey(r.key, async () => {
      this.directory.purge(r.key, this.#o.now());
      const h = this.directory.peek(r.key)?.holders.get(from);
      // Only the copy this home granted last may write back (Shared only when a downgrade overtook its grant).
      if (r.inc !== this.inc || !h || h.version !== r.version) return { accepted: false };
      await this.#storeWrite(r.key, r.value);
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
    await this.#ready();
    return this.directory.withKey(key, async () => {
      const now = this.#o.now();
      this.directory.purge(key, now);
      const stored = await this.#storeRead(key);
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

  /** Write-back: `from` holds the Modified grant of `version` now; the key may go on. */
  installed(from: string, key: string, version: number): Record<string, never> {
    this.#awaitingInstall.get(installId(from, key, version))?.();
    return {};
  }


  /** Main memory's value (503 `store-unavailable` when it cannot be read). */
  async #storeRead(key: string): Promise<string | null> {
    try {
      return await this.#o.store.get(key);
    } catch (e) {
      throw new CacheFailure({ status: 503, body: { error: 'store-unavailable', message: `reading ${JSON.stringify(key)} from the ${this.#o.store.kind} store failed: ${errorMessage(e)}`, definite: true } });
    }
  }

  /** Writes main memory (503 `store-unavailable`, indefinite, when that fails). */
  async #storeWrite(key: string, value: string | null): Promise<void> {
    try {
      if (value === null) await this.#o.store.delete(key);
      else await this.#o.store.put(key, value);
    } catch (e) {
      throw new CacheFailure({ status: 503, body: { error: 'store-unavailable', message: `writing ${JSON.stringify(key)} to the ${this.#o.store.kind} store failed: ${errorMessage(e)}`, definite: false } });
    }
  }
}
