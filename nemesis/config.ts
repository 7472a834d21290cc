/**
 * The nemesis configuration: the zod schema behind the `nemesis:` section of a run's YAML, and
 * the resolved type with every default filled in.
 *
 * ```yaml
 * nemesis:
 *   faults: [partition, kill]        # or [] / none: no faults
 *   combine: one                     # one kind per fault window, or all of them together
 *   partition: { topologies: [majorities-ring, isolate-leader], order: cycle }
 *   kill: { targets: [leader] }
 *   clock: { kinds: [bump], targets: [followers], minOffsetS: 600, maxOffsetS: 900 }
 *   packages: [figure-8]             # named fault sequences (packages.ts), windows of their own
 *   schedule: { interval: { faultS: 5, healS: 5 } }
 * ```
 *
 * A resolved config is itself a valid input (parsing it again gives the same value), so runs can
 * store it and re-read it.
 */
import { z } from 'zod';
import { DEFAULT_TOPOLOGIES, minimumNodes, PARTITION_TOPOLOGIES, type TopologyName } from './topology.js';
import { PACKAGE_NAMES, packageSteps } from './packages.js';

/** The kinds of fault a nemesis can inject. */
export const NEMESIS_FAULT_KINDS = ['partition', 'kill', 'pause', 'latency', 'clock'] as const;

/** A kind of fault. */
export type NemesisFaultKind = (typeof NEMESIS_FAULT_KINDS)[number];

/**
 * Whom a kill or pause hits: a random node, a random minority, a random majority, every node, the
 * leader every running node agrees on (`leader`), the leader a majority agrees on in the highest
 * term (`majority-leader`: during a partition, the leader of the majority side), or a node that
 * believes it leads without a majority (`minority-leader`: the old leader cut off on the minority
 * side), or the node that leads the most of the services' own Raft groups by its own view
 * (`group-leader`: the queue's owner — with 3 nodes the one queue group's leader).
 */
export const NEMESIS_TARGETS = ['one', 'minority', 'majority', 'all', 'leader', 'majority-leader', 'minority-leader', 'new-leader', 'group-leader'] as const;

/** The targets a kill or pause picks from when the config lists none. */
export const DEFAULT_TARGETS = ['one', 'minority', 'leader'] as const satisfies readonly NemesisTarget[];

/** A kill or pause target. */
export type NemesisTarget = (typeof NEMESIS_TARGETS)[number];

/**
 * What a clock fault does to each target's wall clock: `bump` jumps it by an offset and leaves it
 * there, `strobe` flips it between true time and the offset every `strobePeriodMs`, `drift` makes
 * it run fast or slow (the offset grows steadily). Each lasts until `stop-clock` (or `heal`),
 * which puts every clock back to true time.
 */
export const CLOCK_FAULT_KINDS = ['bump', 'strobe', 'drift'] as const;

/** A kind of clock fault. */
export type ClockFaultKind = (typeof CLOCK_FAULT_KINDS)[number];

/** Whose clock a clock fault moves: a random node, a random minority, every node but the leader, the leader, every node. */
export const CLOCK_TARGETS = ['one', 'minority', 'followers', 'leader', 'all'] as const;

/** A clock fault's target. */
export type ClockTarget = (typeof CLOCK_TARGETS)[number];

/** The nemesis op names (`f` of nemesis events), the history convention other code reads. */
export const NEMESIS_FS = [
  'start-partition',
  'stop-partition',
  'start-kill',
  'stop-kill',
  'start-pause',
  'stop-pause',
  'start-latency',
  'stop-latency',
  'start-clock',
  'stop-clock',
  'heal',
] as const;

/** A nemesis op name. */
export type NemesisF = (typeof NEMESIS_FS)[number];

const seconds = z.number().nonnegative();
/**
 * How an interval schedule picks a window's topology or target from the list: `random` (drawn
 * from the seed and the window number) or `cycle` (the list in order, from its first entry,
 * round and round: the n-th window of the kind takes entry n mod length). @default 'random'
 */
const order = z.enum(['random', 'cycle']).default('random');
const topology = z.enum(PARTITION_TOPOLOGIES);
const target = z.enum(NEMESIS_TARGETS);
const latency = z.strictObject({
  /** @default 100 */
  ms: z.number().nonnegative().default(100),
  /** @default 50 */
  jitterMs: z.number().nonnegative().default(50),
});

/** A `start-clock` value: what the config would choose, fixed; `offsetS` (signed) fixes every target's offset (the swing of a strobe, the gain per second of a drift). */
const clockStart = z.strictObject({
  kind: z.enum(CLOCK_FAULT_KINDS).optional(),
  target: z.enum(CLOCK_TARGETS).optional(),
  offsetS: z.number().finite().optional(),
});

const clock = z
  .strictObject({
    /** @default all kinds */
    kinds: z.array(z.enum(CLOCK_FAULT_KINDS)).min(1).default([...CLOCK_FAULT_KINDS]),
    /** @default all targets */
    targets: z.array(z.enum(CLOCK_TARGETS)).min(1).default([...CLOCK_TARGETS]),
    /** The smallest offset of a bump or a strobe, seconds. @default 0 */
    minOffsetS: seconds.default(0),
    /** The largest offset of a bump or a strobe, seconds. @default 60 */
    maxOffsetS: z.number().positive().default(60),
    /** Which way clocks move: ahead, behind, or either (chosen per node). @default 'both' */
    direction: z.enum(['both', 'forward', 'backward']).default('both'),
    /** How often a strobe flips. @default 100 */
    strobePeriodMs: z.number().int().min(10).default(100),
    /** The largest drift, seconds gained (or lost) per second. @default 0.1 */
    driftRate: z.number().positive().default(0.1),
  })
  .refine((c) => c.minOffsetS <= c.maxOffsetS, { message: 'minOffsetS is larger than maxOffsetS', path: ['minOffsetS'] });

/** One timeline entry: an op at `at` seconds after the nemesis starts. */
const timelineEntry = z.discriminatedUnion('f', [
  z.strictObject({ at: seconds, f: z.literal('start-partition'), value: topology.optional() }),
  z.strictObject({ at: seconds, f: z.enum(['start-kill', 'start-pause']), value: target.optional() }),
  z.strictObject({ at: seconds, f: z.literal('start-latency'), value: latency.optional() }),
  z.strictObject({ at: seconds, f: z.literal('start-clock'), value: clockStart.optional() }),
  z.strictObject({ at: seconds, f: z.enum(['stop-partition', 'stop-kill', 'stop-pause', 'stop-latency', 'stop-clock', 'heal']) }),
]);

/** A timeline entry, resolved. */
export type TimelineEntry = z.infer<typeof timelineEntry>;

const interval = z.strictObject({
  /** How long each fault window lasts. @default 5 */
  faultS: z.number().positive().default(5),
  /** How long the cluster is left healthy before each window (also before the first). @default 5 */
  healS: seconds.default(5),
});

const timeline = z.array(timelineEntry).superRefine((entries, ctx) => {
  entries.forEach((e, i) => {
    const before = entries[i - 1];
    if (before !== undefined && e.at < before.at) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'at'],
        message: `timeline entry ${i} (at ${e.at}) comes before entry ${i - 1} (at ${before.at}): entries must be in ascending order of at`,
      });
    }
  });
});

/** The schedule: either an endless interval of fault windows, or a fixed timeline. */
const schedule = z
  .strictObject({ interval: interval.optional(), timeline: timeline.optional() })
  .refine((s) => s.interval === undefined || s.timeline === undefined, { message: 'give either interval or timeline, not both' })
  .transform((s): { interval: z.infer<typeof interval> } | { timeline: TimelineEntry[] } =>
    s.timeline !== undefined ? { timeline: s.timeline } : { interval: s.interval ?? { faultS: 5, healS: 5 } },
  );

const faults = z
  .preprocess(
    (v) => (v === 'none' ? [] : v),
    z.array(z.enum(NEMESIS_FAULT_KINDS), {
      error: (i) => `${i.input === undefined ? 'required:' : 'expected'} a list of ${NEMESIS_FAULT_KINDS.join(', ')}, or none`,
    }),
  )
  .refine((kinds) => new Set(kinds).size === kinds.length, { message: 'a fault kind is listed twice' });

const packages = z
  .array(z.enum(PACKAGE_NAMES))
  .refine((names) => new Set(names).size === names.length, { message: 'a package is listed twice' })
  .default([]);

/** The zod schema of the `nemesis:` section; unknown fields are errors. */
export const nemesisConfigSchema = z
  .strictObject({
    /** The kinds of fault to inject; `[]` or `none` for none. Required. */
    faults,
    /** `one`: each window starts one kind, chosen at random; `all`: every listed kind together. @default 'one' */
    combine: z.enum(['one', 'all']).default('one'),
    /** @default every topology but star */
    partition: z.strictObject({ topologies: z.array(topology).min(1).default([...DEFAULT_TOPOLOGIES]), order }).prefault({}),
    /** @default one, minority, leader */
    /**
     * `targets` @default one, minority, leader. `loseUnsynced`: the nodes run with `DSYNC_LOSE_UNSYNCED=1`
     * (a test aid), so a kill -9 loses what was not fsynced, as a power cut would. @default false
     */
    kill: z
      .strictObject({ targets: z.array(target).min(1).default([...DEFAULT_TARGETS]), order, loseUnsynced: z.boolean().default(false) })
      .prefault({}),
    /** @default one, minority, leader */
    pause: z.strictObject({ targets: z.array(target).min(1).default([...DEFAULT_TARGETS]), order }).prefault({}),
    /**
     * Named fault combinations (packages.ts), each a timed sequence of ops; with an interval
     * schedule a window runs either a fault (kinds as `combine` says) or one package. @default []
     */
    packages,
    /** Link latency (where the backend supports it). @default { ms: 100, jitterMs: 50 } */
    latency: latency.prefault({}),
    /** Clock faults (where the backend can move clocks: the local backend, under libfaketime). @default all kinds and targets, offsets up to 60 s */
    clock: clock.prefault({}),
    /** @default { interval: { faultS: 5, healS: 5 } } */
    schedule: schedule.prefault({}),
  })
  .superRefine((c, ctx) => {
    if (!('timeline' in c.schedule)) return;
    if (c.packages.length > 0) ctx.addIssue({ code: 'custom', path: ['packages'], message: 'packages run only with an interval schedule, not a timeline' });
    c.schedule.timeline.forEach((e, i) => {
      if (e.f === 'heal') return;
      const kind = e.f.slice(e.f.indexOf('-') + 1) as NemesisFaultKind;
      if (!c.faults.includes(kind)) {
        ctx.addIssue({ code: 'custom', path: ['schedule', 'timeline', i, 'f'], message: `${e.f} needs "${kind}" in faults` });
      }
    });
  });

/** The nemesis configuration with defaults applied. */
export type NemesisConfig = z.infer<typeof nemesisConfigSchema>;

/** A nemesis section that does not fit the schema; the message lists each problem with its path. */
export class NemesisConfigError extends Error {
  readonly code = 'NEMESIS_CONFIG';
  constructor(readonly issues: readonly z.core.$ZodIssue[], where: string) {
    super(issues.map((i) => `${pathOf(where, i.path)}: ${i.message}`).join('; '));
    this.name = 'NemesisConfigError';
  }
}

function pathOf(where: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`), where);
}

/**
 * Parses and resolves a `nemesis:` section (e.g. from YAML). `where` prefixes the paths in
 * error messages.
 * @throws NemesisConfigError naming each bad field by its path, e.g. `nemesis.kill.targets[0]`.
 */
export function parseNemesisConfig(input: unknown, where = 'nemesis'): NemesisConfig {
  const r = nemesisConfigSchema.safeParse(input);
  if (!r.success) throw new NemesisConfigError(r.error.issues, where);
  return r.data;
}

/** A problem of a resolved nemesis config with the cluster it is for: the field's path inside `nemesis:` and what is wrong. */
export interface NemesisIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * What of `config` cannot work on `nodes` nodes, known from the config alone (before any node
 * starts): a partition topology — listed, in a timeline, or in a package's steps — that needs
 * more nodes. The nemesis checks it again against the backend it gets.
 */
export function nemesisNodeIssues(config: NemesisConfig, nodes: number): NemesisIssue[] {
  const issues: NemesisIssue[] = [];
  const tooFew = (t: TopologyName): boolean => nodes < minimumNodes(t);
  const needs = (t: TopologyName): string => `topology ${t} needs at least ${minimumNodes(t)} nodes, the experiment has ${nodes}`;
  const timeline = 'timeline' in config.schedule ? config.schedule.timeline : null;
  if (config.faults.includes('partition')) {
    // A start without a value picks from the list; a timeline's starts may all name their own.
    const listUsed = timeline === null || timeline.some((e) => e.f === 'start-partition' && e.value === undefined);
    if (listUsed) config.partition.topologies.forEach((t, i) => tooFew(t) && issues.push({ path: ['partition', 'topologies', i], message: needs(t) }));
    timeline?.forEach((e, i) => {
      if (e.f === 'start-partition' && e.value !== undefined && tooFew(e.value)) issues.push({ path: ['schedule', 'timeline', i, 'value'], message: needs(e.value) });
    });
  }
  config.packages.forEach((p, i) => {
    // A package's topologies do not depend on its random gaps.
    const topologies = new Set(packageSteps(p, () => 0.5).flatMap((s) => (s.f === 'start-partition' && s.value !== null ? [s.value as TopologyName] : [])));
    const short = [...topologies].filter(tooFew);
    if (short.length > 0) issues.push({ path: ['packages', i], message: `package ${p} ${short.map(needs).join('; ')}` });
  });
  return issues;
}
