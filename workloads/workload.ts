/**
 * The workload contract (Maelstrom's `workload()`): a client that turns ops into requests, the
 * generator of the main phase, the generator of the final phase (after the nemesis healed
 * everything), and the checker that judges the history; and a workload's definition — the schema
 * of its `workload:` section and its factory — which the registry (`workloads/index.ts`) maps
 * its name to.
 */
import type { z } from 'zod';
import type { Checker, Op } from '../checkers/index.js';
import type { Completion, Generator } from '../harness/index.js';

/** Talks to the system under test for every client process. */
export interface Client {
  /**
   * Performs one op (its invoke event) and resolves to the completion: `ok`, `fail` (surely did
   * not happen) or `info` (unknown). Expected failures are values; it rejects only on a bug.
   */
  invoke(op: Op): Promise<Completion>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** A workload ready to run. */
export interface Workload {
  readonly name: string;
  readonly client: Client;
  /** Client ops of the main phase, endless: the harness adds the rate and the time limit. */
  readonly generator: Generator;
  /** Client ops after the final heal (the harness adds a time limit), or null for none. */
  readonly finalGenerator: Generator | null;
  readonly checker: Checker;
  /** More checkers of the history, run beside `checker`, each under its own name in the results. */
  readonly moreCheckers?: readonly Checker[];
  /** One line for the run's log about what this workload does and assumes. */
  readonly describe: string;
}

/** An experiment's `workload:` section: `name` picks the workload, the rest is the workload's own. */
export interface WorkloadConfig {
  readonly name: string;
  readonly [field: string]: unknown;
}

/** What a workload is built for: the running cluster and the run. */
export interface WorkloadContext {
  /** Node id → the base URL clients use, e.g. `http://127.0.0.1:7001`. */
  readonly endpoints: ReadonlyMap<string, string>;
  /** How long the run may last, seconds: its phases plus a margin for teardown. */
  readonly runS: number;
  /** The experiment's seed. */
  readonly seed: number;
}

/**
 * What an experiment fixes before any node starts, for a workload to check its section against
 * ({@link WorkloadDefinition.validate}).
 */
export interface WorkloadFacts {
  /** How long the run may last, seconds — the same value {@link WorkloadContext.runS} will have. */
  readonly runS: number;
  /** How long the final phase (after the final heal, the workload's `finalGenerator`) may last, seconds. */
  readonly finalPhaseS: number;
  /** Cluster size. */
  readonly nodes: number;
  /** The experiment's seed. */
  readonly seed: number;
}

/** A problem with a workload's section: the field's path inside `workload:` and what is wrong. */
export interface WorkloadIssue {
  /** e.g. `['ttlMs']` or `['leases', 'holdMs']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The schema of a workload's section: an object whose `name` is the workload's name. */
export type WorkloadSchema = z.ZodObject<{ name: z.ZodLiteral<string> } & z.ZodRawShape>;

/** A workload as the registry knows it: its section's schema, and how to build it. */
export interface WorkloadDefinition {
  readonly name: string;
  /** Validates the `workload:` section (defaults filled in); `experiment.ts` builds on it. */
  readonly schema: WorkloadSchema;
  /**
   * Checks a section its schema accepted against the rest of the experiment, at load time (before
   * any node starts): e.g. a lease TTL that the run would outlive. No issues: none.
   */
  validate(config: WorkloadConfig, facts: WorkloadFacts): readonly WorkloadIssue[];
  /**
   * Builds the workload from a section its schema accepted (and {@link validate} passed).
   * @throws RangeError naming the field (`workload.<field>`) when the section does not fit the run
   */
  create(config: WorkloadConfig, ctx: WorkloadContext): Workload;
}

/**
 * A workload definition from its section's schema, a factory typed by that schema, and optionally
 * the load-time checks of its section against the experiment. Both get the section parsed by the
 * schema (so its types hold whatever the caller passed).
 */
export function defineWorkload<S extends WorkloadSchema>(
  schema: S,
  create: (config: z.output<S>, ctx: WorkloadContext) => Workload,
  validate?: (config: z.output<S>, facts: WorkloadFacts) => readonly WorkloadIssue[],
): WorkloadDefinition {
  return {
    name: schema.shape.name.value,
    schema,
    validate: (config, facts) => (validate ? validate(schema.parse(config), facts) : []),
    create: (config, ctx) => create(schema.parse(config), ctx),
  };
}
