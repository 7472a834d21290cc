/** The nemesis schedules as pure generators: the interval or timeline fault windows, and the final heal. */
import { NEMESIS } from '../checkers/index.js';
import { prng, wait, type GenContext, type GenResult, type Generator } from '../harness/index.js';
import type { NemesisConfig, NemesisF, NemesisFaultKind } from './config.js';

/** One op of a schedule: `f` with `value`, `at` ns after the schedule's origin. */
interface Step {
  readonly at: number;
  readonly f: NemesisF;
  readonly value: unknown;
}

/**
 * A schedule as a pure generator: step `i` of `steps` on the nemesis process, timed from `origin`
 * — the time of the first op call (or event) it sees, like Jepsen's time-limit. Fixing the
 * origin on events too keeps it from sliding when the interpreter drops a future op to handle a
 * completion and asks again.
 */
class ScheduleGenerator implements Generator {
  constructor(
    readonly steps: (i: number) => Step | null,
    readonly i = 0,
    readonly origin: number | null = null,
  ) {}

  op(ctx: GenContext): GenResult {
    const step = this.steps(this.i);
    if (step === null) return null;
    // The first ask fixes the origin through a wait (kept by `any` even when another child's op
    // is chosen; a future op would be dropped with its state, and the origin would slide).
    if (this.origin === null) return wait(ctx.time, new ScheduleGenerator(this.steps, this.i, ctx.time));
    if (!ctx.free.includes(NEMESIS)) return 'pending';
    const origin = this.origin;
    const op = { f: step.f, value: step.value, process: NEMESIS, time: origin + step.at };
    return { op, gen: new ScheduleGenerator(this.steps, this.i + 1, origin) };
  }

  update(ctx: GenContext): Generator {
    return this.origin === null ? new ScheduleGenerator(this.steps, this.i, ctx.time) : this;
  }
}

const ns = (seconds: number): number => Math.round(seconds * 1e9);

/** A pure choice among `from` for (seed, window, salt): the same arguments, the same choice. */
function choose<T>(from: readonly T[], seed: number, window: number, salt: number): T {
  const h = (seed ^ Math.imul(window + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  return from[Math.floor(prng(h)() * from.length)] as T;
}

/** The op starting `kind` in window `w`, with its topology or target chosen by the seed. */
function startStep(config: NemesisConfig, kind: NemesisFaultKind, seed: number, w: number, at: number): Step {
  switch (kind) {
    case 'partition':
      return { at, f: 'start-partition', value: choose(config.partition.topologies, seed, w, 1) };
    case 'kill':
      return { at, f: 'start-kill', value: choose(config.kill.targets, seed, w, 2) };
    case 'pause':
      return { at, f: 'start-pause', value: choose(config.pause.targets, seed, w, 3) };
    case 'latency':
      return { at, f: 'start-latency', value: { ...config.latency } };
    case 'clock':
      return { at, f: 'start-clock', value: { kind: choose(config.clock.kinds, seed, w, 4), target: choose(config.clock.targets, seed, w, 5) } };
    default: {
      const never: never = kind;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
}

/**
 * The fault windows of `config`. Interval: healthy for `healS`, then the window's start op(s) at
 * once, its stop op(s) (in reverse) `faultS` later, and again, forever; with `combine: one` each
 * window's kind is a pure choice of (seed, window number). Timeline: the listed ops at their times.
 */
export function scheduleGenerator(config: NemesisConfig, seed: number): Generator {
  const s = config.schedule;
  if ('timeline' in s) {
    return new ScheduleGenerator((i) => {
      const e = s.timeline[i];
      return e ? { at: ns(e.at), f: e.f, value: 'value' in e && e.value !== undefined ? e.value : null } : null;
    });
  }
  const { faultS, healS } = s.interval;
  const kinds = config.faults;
  const width = config.combine === 'all' ? kinds.length : 1;
  return new ScheduleGenerator((i) => {
    if (kinds.length === 0) return null;
    const w = Math.floor(i / (2 * width));
    const j = i % (2 * width);
    const window = config.combine === 'all' ? kinds : [choose(kinds, seed, w, 0)];
    const start = ns(healS + w * (healS + faultS));
    if (j < width) return startStep(config, window[j] as NemesisFaultKind, seed, w, start);
    const kind = window[2 * width - 1 - j] as NemesisFaultKind;
    return { at: start + ns(faultS), f: `stop-${kind}`, value: null };
  });
}

/** The final generator: one `heal` (none when no fault is configured). */
export function healGenerator(config: NemesisConfig): Generator {
  return new ScheduleGenerator((i) => (i === 0 && config.faults.length > 0 ? { at: 0, f: 'heal', value: null } : null));
}
