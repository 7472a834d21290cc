/**
 * Clock faults: moves nodes' wall clocks through a backend's {@link ClockControl} (Jepsen's
 * `nemesis.time`: bump, strobe; and drift). One clock fault is active at a time; a strobe or a
 * drift keeps a timer of the harness stepping the offsets until the fault is stopped.
 *
 * `start-clock` value → completion value:
 * - bump: `{kind, target, offsets: {node: s}}` — each target's clock jumps by its offset and stays;
 * - strobe: `{kind, target, offsets, periodMs}` — flips between true time and the offset;
 * - drift: `{kind, target, rates: {node: s per s}}` — the offset grows by `rate` each second.
 *
 * `stop-clock` → the node ids put back to true time.
 */
import type { ClockControl, ClusterBackend } from '../cluster/backend.js';
import { errorMessage } from '../cluster/errors.js';
import { CLOCK_FAULT_KINDS, CLOCK_TARGETS, type ClockFaultKind, type ClockTarget, type NemesisConfig } from './config.js';
import type { NemesisCompletion } from './nemesis.js';
import { shuffle } from './topology.js';

/** How often a drift steps the offsets. */
const DRIFT_STEP_MS = 100;

/** What a clock fault needs of the nemesis around it. */
export interface ClockFaultsOptions {
  readonly random: () => number;
  /** The leader the nodes agree on, or null. */
  readonly leader: () => Promise<string | null>;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** The active fault: its nodes and, for a strobe or a drift, the timer stepping them. */
interface ActiveClock {
  readonly kind: ClockFaultKind;
  readonly nodes: readonly string[];
  readonly describe: string;
  timer?: NodeJS.Timeout;
}

const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);
const ms = (s: number): number => Math.round(s * 1000) / 1000;
const signed = (s: number): string => `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(1)}s`;

/** The clock faults of one nemesis over one backend. */
export class ClockFaults {
  readonly #backend: (ClusterBackend & ClockControl) | null;
  readonly #config: NemesisConfig['clock'];
  readonly #o: ClockFaultsOptions;
  #active: ActiveClock | null = null;

  constructor(backend: (ClusterBackend & ClockControl) | null, config: NemesisConfig['clock'], o: ClockFaultsOptions) {
    this.#backend = backend;
    this.#config = config;
    this.#o = o;
  }

  /** The active clock fault for the progress line, e.g. `["clock bump n2 +612.3s n3 +604.0s"]`. */
  active(): readonly string[] {
    return this.#active ? [`clock ${this.#active.describe}`] : [];
  }

  /** `start-clock`: stops the active clock fault, then starts the one `value` names (or the config chooses). */
  async start(value: unknown): Promise<NemesisCompletion> {
    const b = this.#backend;
    if (!b) return fail('this backend cannot move clocks');
    const v = (value ?? {}) as { kind?: unknown; target?: unknown; offsetS?: unknown };
    if (typeof value !== 'object' || Array.isArray(value)) return fail(`start-clock wants {kind?, target?, offsetS?}, got ${JSON.stringify(value)}`);
    const kind: unknown = v.kind ?? this.#pick(this.#config.kinds);
    const target: unknown = v.target ?? this.#pick(this.#config.targets);
    if (!oneOf<ClockFaultKind>(CLOCK_FAULT_KINDS, kind)) return fail(`unknown clock fault ${JSON.stringify(kind)}`);
    if (!oneOf<ClockTarget>(CLOCK_TARGETS, target)) return fail(`unknown clock target ${JSON.stringify(target)}`);
    if (v.offsetS !== undefined && !(typeof v.offsetS === 'number' && Number.isFinite(v.offsetS))) return fail(`offsetS must be a number of seconds, got ${JSON.stringify(v.offsetS)}`);
    const undone = this.#active ? await this.stop() : null;
    const nodes = await this.#targets(target);
    if (typeof nodes === 'string') return undone ? { type: 'info', value: null, error: nodes } : fail(nodes);
    const given = v.offsetS as number | undefined;
    switch (kind) {
      case 'bump': {
        const offsets = Object.fromEntries(nodes.map((n) => [n, given ?? this.#offset()]));
        this.#active = { kind, nodes, describe: `bump ${nodes.map((n) => `${n} ${signed(offsets[n] as number)}`).join(' ')}` };
        return info({ kind, target, offsets }, await this.#set(b, offsets));
      }
      case 'strobe': {
        const offsets = Object.fromEntries(nodes.map((n) => [n, given ?? this.#offset()]));
        const periodMs = this.#config.strobePeriodMs;
        const active: ActiveClock = { kind, nodes, describe: `strobe ${nodes.map((n) => `${n} ±${Math.abs(offsets[n] as number).toFixed(1)}s`).join(' ')}` };
        this.#active = active;
        let on = true;
        active.timer = setInterval(() => {
          on = !on;
          void this.#step(b, active, Object.fromEntries(nodes.map((n) => [n, on ? (offsets[n] as number) : 0])));
        }, periodMs).unref();
        return info({ kind, target, offsets, periodMs }, await this.#set(b, offsets));
      }
      case 'drift': {
        const rates = Object.fromEntries(nodes.map((n) => [n, given ?? ms(this.#sign() * this.#between(0.1, 1) * this.#config.driftRate)]));
        const active: ActiveClock = { kind, nodes, describe: `drift ${nodes.map((n) => `${n} ${(rates[n] as number) < 0 ? '-' : '+'}${Math.abs((rates[n] as number) * 100).toFixed(0)}%`).join(' ')}` };
        this.#active = active;
        const t0 = performance.now();
        active.timer = setInterval(() => {
          const elapsedS = (performance.now() - t0) / 1000;
          void this.#step(b, active, Object.fromEntries(nodes.map((n) => [n, (rates[n] as number) * elapsedS])));
        }, DRIFT_STEP_MS).unref();
        return info({ kind, target, rates });
      }
      default: {
        const never: never = kind;
        return fail(`unknown clock fault ${String(never)}`);
      }
    }
  }

  /** `stop-clock`: every clock the active fault moved back to true time. */
  async stop(): Promise<NemesisCompletion> {
    const a = this.#active;
    const b = this.#backend;
    if (!a || !b) return info([]);
    clearInterval(a.timer);
    const errors = await this.#set(b, Object.fromEntries(a.nodes.map((n) => [n, 0])));
    // What could not be reset stays recorded, so that the final heal tries again.
    this.#active = errors.length === 0 ? null : { kind: a.kind, nodes: a.nodes, describe: `${a.describe} (reset failed)` };
    return info(a.nodes, errors);
  }

  /** One step of a strobe or a drift; a step of a fault no longer active does nothing. */
  async #step(b: ClockControl, a: ActiveClock, offsets: Record<string, number>): Promise<void> {
    if (this.#active !== a) return;
    const errors = await this.#set(b, offsets);
    if (errors.length > 0) this.#o.log?.('nemesis clock step failed', { errors });
  }

  async #set(b: ClockControl, offsets: Record<string, number>): Promise<string[]> {
    const nodes = Object.keys(offsets);
    const results = await Promise.allSettled(nodes.map((n) => b.setClockOffset(n, offsets[n] as number)));
    return results.flatMap((r, i) => (r.status === 'rejected' ? [`${nodes[i]}: ${errorMessage(r.reason)}`] : []));
  }

  async #targets(target: ClockTarget): Promise<string[] | string> {
    const nodes = [...(this.#backend?.nodes ?? [])];
    switch (target) {
      case 'one':
        return [this.#pick(nodes)];
      case 'minority': {
        const chosen = new Set(shuffle(nodes, this.#o.random).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 2))));
        return nodes.filter((n) => chosen.has(n));
      }
      case 'all':
        return nodes;
      case 'leader':
      case 'followers': {
        const leader = await this.#o.leader();
        if (leader === null) return 'no leader';
        return target === 'leader' ? [leader] : nodes.filter((n) => n !== leader);
      }
      default: {
        const never: never = target;
        return `unknown clock target ${String(never)}`;
      }
    }
  }

  #pick<T>(from: readonly T[]): T {
    return from[Math.floor(this.#o.random() * from.length)] as T;
  }

  #between(lo: number, hi: number): number {
    return lo + this.#o.random() * (hi - lo);
  }

  #sign(): 1 | -1 {
    const d = this.#config.direction;
    return d === 'forward' ? 1 : d === 'backward' ? -1 : this.#o.random() < 0.5 ? -1 : 1;
  }

  /** A signed offset in [minOffsetS, maxOffsetS], to the millisecond. */
  #offset(): number {
    return ms(this.#sign() * this.#between(this.#config.minOffsetS, this.#config.maxOffsetS));
  }
}

const info = (value: unknown, errors: readonly string[] = []): NemesisCompletion =>
  errors.length === 0 ? { type: 'info', value } : { type: 'info', value, error: errors.join('; ') };
const fail = (error: string): NemesisCompletion => ({ type: 'fail', value: null, error });
