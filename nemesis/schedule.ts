/** The nemesis schedules as pure generators: the interval or timeline fault windows, and the final heal. */
import { NEMESIS, type Op } from '../checkers/index.js';
import { prng, wait, type GenContext, type GenResult, type Generator } from '../harness/index.js';
import type { NemesisConfig, NemesisF, NemesisFaultKind } from './config.js';
import { packageSteps, type PackageName } from './packages.js';

/** One op of a schedule: `f` with `value`, `at` ns after the schedule's origin. */
interface Step {
  readonly at: number;
  readonly f: NemesisF;
  readonly value: unknown;
}

/**
 * A schedule as a pure generator: step `i` of `steps` on the nemesis process, timed from `origin`
 * — the time of the first op call (or event) it sees, like Jepsen's time-limit — and moved later
 * when an op completes late. Fixing the
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

  update(ctx: GenContext, event: Op): Generator {
    if (this.origin === null) return new ScheduleGenerator(this.steps, this.i, ctx.time);
    // A nemesis op that completes late (a restart waits for the node to answer) pushes the rest
    // back, so that the gap after it keeps its length: a heal window stays healS long, and a
    // package's steps keep their spacing.
    const prev = this.i > 0 && event.process === NEMESIS && event.type !== 'invoke' ? this.steps(this.i - 1) : null;
    const done = event.time ?? ctx.time;
    if (prev && done - prev.at > this.origin) return new ScheduleGenerator(this.steps, this.i, done - prev.at);
    return this;
  }
}

const ns = (seconds: number): number => Math.round(seconds * 1e9);

/** A pure choice among `from` for (seed, window, salt): the same arguments, the same choice. */
function choose<T>(from: readonly T[], seed: number, window: number, salt: number): T {
  const h = (seed ^ Math.imul(window + 1, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  return from[Math.floor(prng(h)() * from.length)] as T;
}

/** Entry `n` of `list`, round and round (`order: cycle`). */
const nth = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;

/**
 * The op starting `kind` in window `w`, with its topology or target chosen by the seed, or — with
 * `order: cycle` — the next in the list: `n` is how many earlier windows started this kind.
 */
function startStep(config: NemesisConfig, kind: NemesisFaultKind, seed: number, w: number, n: number, at: number): Step {
  switch (kind) {
    case 'partition': {
      const p = config.partition;
      return { at, f: 'start-partition', value: p.order === 'cycle' ? nth(p.topologies, n) : choose(p.topologies, seed, w, 1) };
    }
    case 'kill':
      return { at, f: 'start-kill', value: config.kill.order === 'cycle' ? nth(config.kill.targets, n) : choose(config.kill.targets, seed, w, 2) };
    case 'pause':
      return { at, f: 'start-pause', value: config.pause.order === 'cycle' ? nth(config.pause.targets, n) : choose(config.pause.targets, seed, w, 3) };
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

/** What one interval window runs: fault kinds together, or one package. */
type WindowChoice = { readonly kinds: readonly NemesisFaultKind[] } | { readonly package: PackageName };

/** The choices of a window: each kind alone (`combine: one`) or all of them, and each package. */
function windowChoices(config: NemesisConfig): WindowChoice[] {
  const kinds = config.faults;
  const faults: WindowChoice[] = config.combine === 'all' ? (kinds.length > 0 ? [{ kinds }] : []) : kinds.map((k) => ({ kinds: [k] }));
  return [...faults, ...config.packages.map((p) => ({ package: p }))];
}

/**
 * The steps of window `w` starting at `start` ns, and how long it lasts. `started` counts the
 * earlier windows that started each kind (for `order: cycle`); this window's kinds are added.
 */
function windowSteps(config: NemesisConfig, seed: number, w: number, start: number, faultS: number, started: Map<NemesisFaultKind, number>): { steps: Step[]; length: number } {
  const choices = windowChoices(config);
  const choice = choose(choices, seed, w, 0);
  if ('package' in choice) {
    const random = prng((seed ^ Math.imul(w + 1, 0x27d4eb2f) ^ 0x165667b1) >>> 0);
    const steps = packageSteps(choice.package, random).map((p) => ({ at: start + ns(p.atS), f: p.f, value: p.value }));
    return { steps, length: (steps[steps.length - 1]?.at ?? start) - start };
  }
  const starts = choice.kinds.map((k) => {
    const n = started.get(k) ?? 0;
    started.set(k, n + 1);
    return startStep(config, k, seed, w, n, start);
  });
  const stops = [...choice.kinds].reverse().map((k): Step => ({ at: start + ns(faultS), f: `stop-${k}`, value: null }));
  return { steps: [...starts, ...stops], length: ns(faultS) };
}

/**
 * The fault windows of `config`. Interval: healthy for `healS`, then a window, and again, forever.
 * A window of fault kinds starts them at once and stops them (in reverse) `faultS` later; a
 * package window runs the package's steps (packages.ts) and lasts as long as they do. Which
 * kind(s) or package a window runs is a pure choice of (seed, window number); so is its topology
 * or target, unless the kind's `order` is `cycle` (the list in order). Timeline: the
 * listed ops at their times.
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
  if (windowChoices(config).length === 0) return new ScheduleGenerator(() => null);
  // Windows have different lengths (packages), so each starts where the previous one ended; they
  // are computed once, in order, as the generator asks for their steps.
  const steps: Step[] = [];
  const started = new Map<NemesisFaultKind, number>();
  let next = { w: 0, start: ns(healS) };
  return new ScheduleGenerator((i) => {
    // Every window has at least one step, so this ends within i + 1 windows.
    while (steps.length <= i) {
      const win = windowSteps(config, seed, next.w, next.start, faultS, started);
      steps.push(...win.steps);
      next = { w: next.w + 1, start: next.start + win.length + ns(healS) };
    }
    return steps[i] ?? null;
  });
}

/** The final generator: one `heal` (none when no fault or package is configured). */
export function healGenerator(config: NemesisConfig): Generator {
  return new ScheduleGenerator((i) => (i === 0 && (config.faults.length > 0 || config.packages.length > 0) ? { at: 0, f: 'heal', value: null } : null));
}
