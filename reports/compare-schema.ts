/**
 * The zod schema of a comparison's `results.json` (`CompareResults`, harness/bench/compare-results.ts),
 * so that compare.html and the store index read only files of that shape. The schema is typed as
 * `z.ZodType<CompareResults>`: a field the type gains and the schema lacks fails to compile.
 */
import { z } from 'zod';
import {
  COMPARE_FAULTS,
  COMPARE_SERVICES,
  type CompareResults,
} from '../harness/bench/compare-results.js';

const service = z.enum(COMPARE_SERVICES);
const fault = z.enum(COMPARE_FAULTS);
/** A figure that may not have been measured. */
const measured = z.number().nullable();

const latency = z.object({ p50Ms: measured, p90Ms: measured, p99Ms: measured, p999Ms: measured, maxMs: measured });

const nodeCost = z.object({ node: z.string(), cpuS: measured, bytesIn: measured, bytesOut: measured, fsyncs: measured });

const cost = z.object({
  perNode: z.array(nodeCost),
  cpuSPerOk: measured,
  maxNodeCpuSPerOk: measured,
  bytesPerOk: measured,
  fsyncsPerOk: measured,
});

const generator = z.object({
  cpuS: z.number(),
  cpuShare: z.number(),
  sendGapP50Ms: measured,
  sendGapP99Ms: measured,
  sendGapMaxMs: measured,
  heldByBound: z.number(),
});

const curveRow = z.object({
  service,
  nodes: z.number(),
  offeredPerSec: z.number(),
  durationS: z.number(),
  scheduled: z.number(),
  sent: z.number(),
  ok: z.number(),
  failed: z.number(),
  okPerSec: z.number(),
  latency,
  percentiles: z.array(z.tuple([z.number(), z.number()])),
  cost,
  generator,
  firstError: z.string().optional(),
});

const knee = z.object({ service, nodes: z.number(), offeredPerSec: measured, okPerSec: measured, p99Ms: measured });

const faultRow = z.object({
  service,
  nodes: z.number(),
  fault,
  target: z.string().nullable(),
  offeredPerSec: z.number(),
  durationS: z.number(),
  faultAtS: z.number(),
  healAtS: z.number(),
  baselineOkPerSec: z.number(),
  availability: measured,
  firstOkAfterFaultMs: measured,
  steadyAfterHealMs: measured,
  latency,
  timeline: z.array(z.object({ tS: z.number(), ok: z.number(), failed: z.number() })),
  firstError: z.string().optional(),
});

const reference = z.object({
  label: z.string(),
  kind: z.enum(['throughput', 'p99']),
  value: z.number(),
  service: service.optional(),
});

/** A comparison's `results.json`. */
export const compareResultsSchema: z.ZodType<CompareResults> = z.object({
  kind: z.literal('bench-compare'),
  version: z.literal(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  machine: z.object({ cpus: z.number(), cpuModel: z.string(), node: z.string(), platform: z.string() }),
  options: z.object({
    services: z.array(service),
    nodes: z.array(z.number()),
    rates: z.union([z.array(z.number()), z.literal('auto')]),
    durationS: z.number(),
    fault,
    p99BoundMs: z.number(),
    deadlineMs: z.number(),
    seed: z.number(),
  }),
  missing: z.array(z.object({ service, why: z.string() })),
  saturation: z.array(z.object({ service, nodes: z.number(), okPerSec: z.number() })),
  steps: z.partialRecord(service, z.array(z.number())),
  commonRate: z.partialRecord(service, z.number()),
  curves: z.array(curveRow),
  knees: z.array(knee),
  faults: z.array(faultRow),
  reference: z.array(reference),
  summary: z.array(z.string()),
  errors: z.array(z.string()),
});

/**
 * `value` checked to be a comparison's results. @throws Error naming `file` and the first bad
 * fields (at most three), e.g. `curves.3.latency.p99Ms: Invalid input: expected number, received string`
 */
export function parseCompareResults(value: unknown, file: string): CompareResults {
  const r = compareResultsSchema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new Error(`${file}: not a bench-compare results.json: ${problems.join('; ')}`);
}
