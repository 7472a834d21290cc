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

/** The schema of a workload's section: an object whose `name` is the workload's name. */
export type WorkloadSchema = z.ZodObject<{ name: z.ZodLiteral<string> } & z.ZodRawShape>;

/** A workload as the registry knows it: its section's schema, and how to build it. */
export interface WorkloadDefinition {
  readonly name: string;
  /** Validates the `workload:` section (defaults filled in); `experiment.ts` builds on it. */
  readonly schema: WorkloadSchema;
  /**
   * Builds the workload from a section its schema accepted.
   * @throws RangeError naming the field (`workload.<field>`) when the section does not fit the run
   */
  create(config: WorkloadConfig, ctx: WorkloadContext): Workload;
}

/**
 * A workload definition from its section's schema and a factory typed by that schema. The factory
 * gets the section parsed by the schema (so its types hold whatever the caller passed).
 */
export function defineWorkload<S extends WorkloadSchema>(schema: S, create: (config: z.output<S>, ctx: WorkloadContext) => Workload): WorkloadDefinition {
  return { name: schema.shape.name.value, schema, create: (config, ctx) => create(schema.parse(config), ctx) };
}
