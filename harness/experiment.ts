/**
 * Experiment configs: the YAML file `dsync run` takes, its schema (zod), and loading with errors
 * that name the file, the line and the field — `experiments/x.yaml:7: nemesis.schedule.interval.faultS:
 * expected a number, got "five"`. CLI flags override fields after loading and are validated the
 * same way.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { stringify } from 'yaml';
import { issueLines, parseYamlMap } from './yaml-file.js';
import { workloadDefinitions, type WorkloadConfig, type WorkloadSchema } from '../workloads/index.js';
import { backendNames } from '../cluster/backends.js';
import { nemesisConfigSchema } from '../nemesis/index.js';

/** Every registered workload's section, told apart by `name`. */
function workloadSchema(): z.ZodType<WorkloadConfig> {
  const schemas = workloadDefinitions().map((d) => d.schema);
  if (schemas.length === 0) throw new Error('no workload is registered');
  return z.discriminatedUnion('name', schemas as [WorkloadSchema, ...WorkloadSchema[]]) as unknown as z.ZodType<WorkloadConfig>;
}

/**
 * The experiment schema, from the registries of workloads and backends as they are now; every
 * field but `workload` has a default.
 */
export function experimentSchema() {
  return z
    .object({
      /** The store folder's name; default: the file's name without `.yaml`. */
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only').max(100).optional(),
      /** What the experiment shows, in words (kept in the store). */
      description: z.string().default(''),
      /** A registered backend (cluster/backends.ts). */
      backend: z.enum(backendNames() as [string, ...string[]]).default('local'),
      /** Cluster size. */
      nodes: z.number().int().min(1).max(9).default(3),
      /** Node options every node gets; `snapshotEvery`: applied entries between snapshots (`--snapshot-every`; the node's default, 10000, when absent). */
      cluster: z.strictObject({ snapshotEvery: z.number().int().positive().optional() }).prefault({}),
      /** Extra `dsync node` flags for every node, e.g. `["--tick-ms", "10"]`. */
      nodeArgs: z.array(z.string()).default([]),
      /** Seeds the op sequence, node choice and the nemesis's random choices. */
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
      /** Length of the main phase (workload + nemesis), seconds. */
      timeLimitS: z.number().positive().max(86_400).default(20),
      /** Client threads (Jepsen's concurrency). */
      concurrency: z.number().int().min(1).max(1000).default(10),
      /** Ops per second over all clients, scheduled by the clock (open loop). */
      rate: z.number().positive().max(100_000).default(50),
      /** Gaps between scheduled ops: `none` (even), `uniform`, `exponential` (Poisson arrivals). */
      jitter: z.enum(['none', 'uniform', 'exponential']).default('exponential'),
      /** Length of the final phase after the final heal (client ops, no faults), seconds. */
      finalPhaseS: z.number().min(0).max(3600).default(5),
      /** Time budget of the checker; past it the verdict is unknown. */
      checkTimeoutMs: z.number().int().positive().default(60_000),
      /** A registered workload's section (workloads/index.ts), picked by its `name`. */
      workload: workloadSchema(),
      nemesis: nemesisConfigSchema.prefault({ faults: [] }),
    })
    .strict();
}

/** An experiment with defaults filled in. */
export type Experiment = z.output<ReturnType<typeof experimentSchema>> & { readonly name: string };

/** A bad experiment file or flag; `message` names the file, line and field. */
export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';
}

/**
 * Validates a parsed experiment. `where(path)` gives the `file:line` prefix of a field's
 * location for error messages.
 * @throws ExperimentError naming each bad field (all of them, one per line).
 */
export function validateExperiment(raw: unknown, fallbackName: string, where: (path: readonly PropertyKey[]) => string): Experiment {
  const r = experimentSchema().safeParse(raw);
  if (!r.success) throw new ExperimentError(issueLines(r.error.issues, raw, where).join('\n'));
  return { ...r.data, name: r.data.name ?? fallbackName };
}

/** Parses experiment YAML `text` from `file` (for messages). */
export function parseExperiment(text: string, file: string): Experiment {
  const { raw, where } = parseYamlMap(text, file, 'experiment fields (name, nodes, workload, nemesis, ...)', (m) => new ExperimentError(m));
  return validateExperiment(raw, basename(file, extname(file)), where);
}

/** Reads and parses an experiment file. */
export function loadExperiment(file: string): Experiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExperimentError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseExperiment(text, file);
}

/** The `dsync node` flags of an experiment's `cluster:` section. */
export function clusterNodeArgs(e: Experiment): string[] {
  return e.cluster.snapshotEvery !== undefined ? ['--snapshot-every', String(e.cluster.snapshotEvery)] : [];
}

/** CLI overrides of an experiment's fields. */
export interface ExperimentOverrides {
  readonly timeLimitS?: number;
  readonly seed?: number;
  readonly backend?: string;
}

/** Applies `overrides` (validated like the file's fields, errors naming the flag). */
export function applyOverrides(e: Experiment, o: ExperimentOverrides): Experiment {
  const flags: Record<string, string> = { timeLimitS: '--time-limit', seed: '--seed', backend: '--backend' };
  const merged = { ...e, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  return validateExperiment(merged, e.name, (path) => flags[String(path[0])] ?? 'flags');
}

/** The experiment as the YAML the store keeps (`config.yaml`): every default spelled out. */
export function experimentToYaml(e: Experiment): string {
  return stringify(e, { lineWidth: 100 });
}
