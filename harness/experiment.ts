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
import { workloadDefinition, workloadDefinitions, type WorkloadConfig, type WorkloadSchema } from '../workloads/index.js';
import { backendDefinition, backendNames, type BackendNeed } from '../cluster/backends.js';
import { nemesisConfigSchema, nemesisNodeIssues, PACKAGE_FAULTS, type NemesisFaultKind } from '../nemesis/index.js';

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
      /**
       * The verdict the experiment is built to get. `invalid` for one that shows a price or a
       * planted bug (e.g. write-back losing writes): `dsync suite` counts it as passing only if
       * the run is invalid, and fails it when it is valid. `dsync run` reports the verdict as is.
       */
      expect: z.enum(['valid', 'invalid']).default('valid'),
      /** A registered backend (cluster/backends.ts). */
      backend: z.enum(backendNames() as [string, ...string[]]).default('local'),
      /** Cluster size. */
      nodes: z.number().int().min(1).max(9).default(3),
      /** Node options every node gets; `snapshotEvery`: applied entries between snapshots (`--snapshot-every`; the node's default, 10000, when absent). */
      cluster: z
        .strictObject({
          snapshotEvery: z.number().int().positive().optional(),
          /** The cache service's options (`--cache-*`); `redis: true` starts a redis-server for the run as the cache's main memory (`--redis`). */
          cache: z
            .strictObject({
              policy: z.enum(['write-through', 'write-back']).optional(),
              leaseMs: z.number().int().positive().max(600_000).optional(),
              driftBound: z.number().min(0).lt(0.5).optional(),
              maxEntries: z.number().int().positive().optional(),
              redis: z.boolean().default(false),
              /** With `redis`: how long a home may be unheard from before its keys move, ms (0: never). */
              failoverMs: z.number().int().nonnegative().max(600_000).optional(),
            })
            .prefault({}),
        })
        .prefault({}),
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
 * How long a run of `e` may last as its workload is told (`WorkloadContext.runS`): every phase
 * plus 30 s for setup and teardown. Load-time checks and `dsync run` use this one value.
 */
export function workloadRunS(e: Pick<Experiment, 'timeLimitS' | 'finalPhaseS'>): number {
  return e.timeLimitS + e.finalPhaseS + 30;
}

/** A problem of a schema-valid experiment: a field's path from the top, and what is wrong. */
interface FieldIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * What the schema cannot see: the workload's own checks against the run (its registry entry's
 * `validate`, e.g. a lease TTL shorter than the run) and the nemesis's against the node count —
 * everything known before any node starts.
 */
function crossFieldIssues(e: Omit<Experiment, 'name'>): FieldIssue[] {
  const facts = { runS: workloadRunS(e), finalPhaseS: e.finalPhaseS, nodes: e.nodes, seed: e.seed };
  return [
    ...workloadDefinition(e.workload.name)
      .validate(e.workload, facts)
      .map((i) => ({ path: ['workload', ...i.path], message: i.message })),
    ...nemesisNodeIssues(e.nemesis, e.nodes).map((i) => ({ path: ['nemesis', ...i.path], message: i.message })),
    ...backendIssues(e),
  ];
}

/** What a fault kind asks of the backend, if anything beyond the powers every backend checks when it starts. */
function faultNeed(kind: NemesisFaultKind): BackendNeed | null {
  switch (kind) {
    case 'partition':
      return { kind: 'link-fault', fault: 'blackhole' };
    case 'latency':
      return { kind: 'link-fault', fault: 'latency' };
    case 'clock':
      return { kind: 'clock-faults' };
    case 'kill':
    case 'pause':
      return null;
    default: {
      const never: never = kind;
      throw new Error(`unknown fault kind ${String(never)}`);
    }
  }
}

/**
 * What the experiment's backend says it cannot do (its `cannot`), field by field: link latency
 * on a backend without it, partitions where its rules cannot be applied, a host redis-server its
 * nodes cannot reach — refused at load time, before any node starts.
 */
function backendIssues(e: Omit<Experiment, 'name'>): FieldIssue[] {
  const def = backendDefinition(e.backend);
  if (!def.cannot) return [];
  const asked: [FieldIssue['path'], BackendNeed][] = [];
  e.nemesis.faults.forEach((f, i) => {
    const need = faultNeed(f);
    if (need) asked.push([['nemesis', 'faults', i], need]);
  });
  e.nemesis.packages.forEach((p, i) => {
    for (const f of new Set(PACKAGE_FAULTS[p])) {
      const need = faultNeed(f);
      if (need) asked.push([['nemesis', 'packages', i], need]);
    }
  });
  if (e.cluster.cache.redis) asked.push([['cluster', 'cache', 'redis'], { kind: 'host-redis' }]);
  return asked.flatMap(([path, need]) => {
    const why = def.cannot?.(need) ?? null;
    return why === null ? [] : [{ path, message: why }];
  });
}

/** Where the fields of each experiment parsed from a file are, for messages about its overrides. */
const origins = new WeakMap<Experiment, (path: readonly PropertyKey[]) => string>();

/**
 * Validates a parsed experiment: its schema, then what the workload and the nemesis need of the
 * rest of it (a lease TTL that outlives the run, topologies the node count allows), so that a
 * bad experiment is refused before a store folder is made or a node started. `where(path)` gives
 * the `file:line` prefix of a field's location for error messages.
 * @throws ExperimentError naming each bad field (all of them, one per line).
 */
export function validateExperiment(raw: unknown, fallbackName: string, where: (path: readonly PropertyKey[]) => string): Experiment {
  const r = experimentSchema().safeParse(raw);
  if (!r.success) throw new ExperimentError(issueLines(r.error.issues, raw, where).join('\n'));
  const issues = crossFieldIssues(r.data);
  if (issues.length > 0) throw new ExperimentError(issues.map((i) => `${where(i.path)}: ${i.path.map(String).join('.')}: ${i.message}`).join('\n'));
  const e: Experiment = { ...r.data, name: r.data.name ?? fallbackName };
  origins.set(e, where);
  return e;
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
  const c = e.cluster.cache;
  return [
    ...(e.cluster.snapshotEvery !== undefined ? ['--snapshot-every', String(e.cluster.snapshotEvery)] : []),
    ...(c.policy !== undefined ? ['--cache-policy', c.policy] : []),
    ...(c.leaseMs !== undefined ? ['--cache-lease-ms', String(c.leaseMs)] : []),
    ...(c.driftBound !== undefined ? ['--cache-drift-bound', String(c.driftBound)] : []),
    ...(c.maxEntries !== undefined ? ['--cache-max-entries', String(c.maxEntries)] : []),
    ...(c.failoverMs !== undefined ? ['--cache-failover-ms', String(c.failoverMs)] : []),
  ];
}

/** CLI overrides of an experiment's fields. */
export interface ExperimentOverrides {
  readonly timeLimitS?: number;
  readonly seed?: number;
  readonly backend?: string;
}

/**
 * Applies `overrides` (validated like the file's fields, errors naming the flag). A field the
 * flags make wrong elsewhere — `--time-limit` outgrowing `workload.ttlMs` — is named with its
 * place in the file and the flags: `x.yaml:12 (with --time-limit 600): workload.ttlMs: ...`.
 */
export function applyOverrides(e: Experiment, o: ExperimentOverrides): Experiment {
  const flags: Record<string, string> = { timeLimitS: '--time-limit', seed: '--seed', backend: '--backend' };
  const given = Object.entries(o).filter(([, v]) => v !== undefined);
  const merged = { ...e, ...Object.fromEntries(given) };
  const used = given.map(([k, v]) => `${flags[k] ?? k} ${String(v)}`).join(' ');
  const fileWhere = origins.get(e);
  return validateExperiment(merged, e.name, (path) => flags[String(path[0])] ?? (fileWhere ? `${fileWhere(path)} (with ${used})` : `flags ${used}`));
}

/** The experiment as the YAML the store keeps (`config.yaml`): every default spelled out. */
export function experimentToYaml(e: Experiment): string {
  return stringify(e, { lineWidth: 100 });
}
