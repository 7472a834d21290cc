/**
 * The cache's checkers, beside the per-key linearizable register:
 *
 * - **`mesi`** — the coherence invariants over the line states the workload sampled during the
 *   run (`state` ops: `GET /cache/{key}/state`, taken at the key's home under the key's lock, so
 *   each sample is one instant of that key's protocol). In every sample, among the lines still
 *   valid (state M/E/S, lease not run out): at most one is Modified or Exclusive, and then no
 *   other is valid; every valid line but the Modified one holds the store's value; and every
 *   valid line is one the home's directory lists (a copy the home does not know of is one it
 *   will not invalidate). Nodes the home could not reach are not judged (the sample says which).
 * - **`lost-writes`** — names acknowledged writes a later read proves lost: a read invoked after
 *   an ok write W completed that returns a value whose write completed before W was invoked (or
 *   nil, when no delete could come after W). Linearizability forbids it; this checker says
 *   *which* writes vanished (the price of `write-back` when a Modified holder crashes).
 *
 * Op shapes (the cache workload's, `workloads/cache.ts`): `read` `[key nil]` → ok `[key value]`
 * (nil when the key has no value); `write` `[key value]` (a nil value is a delete); `state`
 * `[key nil]` → ok `[key sample]`.
 */
import type { Checker, CheckerResult } from './checker.js';
import { completeHistory, type CompletedOp } from './history/complete.js';
import type { History } from './history/op.js';
import { canonical, describeValue } from './values.js';

/** At most this many violations are listed in a result. */
const MAX_LISTED = 10;

/** A line as a sample reports it. */
interface SampledLine {
  readonly node: string;
  readonly state: string;
  readonly value?: string | null;
  readonly leaseLeftMs?: number;
}

/** The part of a sample the invariants read. */
interface Sample {
  readonly key: string;
  readonly home: string;
  readonly stored: string | null;
  readonly directory: readonly { readonly node: string; readonly state: string }[];
  readonly lines: readonly SampledLine[];
  readonly unreachable: readonly string[];
  readonly policy?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asSample(v: unknown): Sample | null {
  if (!isObject(v) || typeof v['key'] !== 'string' || !Array.isArray(v['lines']) || !Array.isArray(v['directory'])) return null;
  return v as unknown as Sample;
}

/** The tuple `[key x]` of an op value. */
const tuple = (v: unknown): [unknown, unknown] | null => (Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null);

/** Checks one sample; the violations found, in words. */
export function sampleViolations(s: Sample): string[] {
  const out: string[] = [];
  const valid = s.lines.filter((l) => l.state !== 'I' && (l.leaseLeftMs ?? 0) > 0);
  const owners = valid.filter((l) => l.state === 'M' || l.state === 'E');
  if (owners.length > 1) out.push(`${owners.length} nodes hold it Modified/Exclusive at once: ${owners.map((l) => `${l.node} ${l.state}`).join(', ')}`);
  else if (owners.length === 1 && valid.length > 1) {
    const owner = owners[0] as SampledLine;
    out.push(`${owner.node} holds it ${owner.state} while ${valid.filter((l) => l !== owner).map((l) => `${l.node} ${l.state}`).join(', ')} still hold valid copies`);
  }
  /** A value as the sample has it: JSON text, or none. */
  const text = (v: string | null | undefined): string => v ?? 'no value';
  for (const l of valid) {
    if (l.state !== 'M' && l.value !== s.stored) out.push(`${l.node} holds it ${l.state} with ${text(l.value)} but the store has ${text(s.stored)}`);
    if (l.state === 'M' && s.policy !== 'write-back' && l.value !== s.stored) out.push(`${l.node} holds it Modified with ${text(l.value)} under write-through, but the store has ${text(s.stored)}`);
    if (!s.directory.some((d) => d.node === l.node)) out.push(`${l.node} holds a valid ${l.state} copy the home ${s.home} does not list`);
  }
  return out;
}

/** The `mesi` checker. */
export function mesiChecker(): Checker {
  return {
    name: 'mesi',
    check(history: History): CheckerResult {
      let samples = 0;
      let partial = 0;
      let violations = 0;
      const listed: string[] = [];
      for (const op of history) {
        if (op.type !== 'ok' || op.f !== 'state') continue;
        const s = asSample(tuple(op.value)?.[1]);
        if (!s) continue;
        samples++;
        if (s.unreachable.length > 0) partial++;
        const found = sampleViolations(s);
        violations += found.length;
        for (const v of found) if (listed.length < MAX_LISTED) listed.push(`key ${JSON.stringify(s.key)} at event ${op.index}: ${v}`);
      }
      const summary = `mesi: ${samples} samples of line states (${partial} with unreachable nodes), ${violations} violations${listed[0] !== undefined ? ` — first: ${listed[0]}` : ''}`;
      if (violations === 0) return { valid: true, summary, samples, partial, violations };
      return { valid: false, reason: `${violations} MESI invariant violations; first: ${listed[0] ?? ''}`, summary, samples, partial, violations, listed };
    },
  };
}

/** A write that a later read proves lost. */
export interface LostWrite {
  readonly key: unknown;
  readonly value: unknown;
  /** The event index of the write's invocation and of the read that proves it. */
  readonly writeAt: number;
  readonly readAt: number;
  /** What that read returned instead. */
  readonly read: unknown;
}

/** The acknowledged writes of `history` that a later read proves lost (see the module's comment). */
export function findLostWrites(history: History): LostWrite[] {
  const byKey = new Map<string, CompletedOp[]>();
  for (const op of completeHistory(history)) {
    if (op.f !== 'read' && op.f !== 'write') continue;
    const t = tuple(op.f === 'read' ? op.value : op.invokeValue);
    if (!t) continue;
    const k = canonical(t[0]);
    let list = byKey.get(k);
    if (!list) byKey.set(k, (list = []));
    list.push(op);
  }
  const lost: LostWrite[] = [];
  for (const ops of byKey.values()) {
    const writes = ops.filter((o) => o.f === 'write');
    // Each written value's writes (values are unique per run, but a value may be written twice).
    const writesOf = new Map<string, CompletedOp[]>();
    for (const w of writes) {
      const v = canonical(tuple(w.invokeValue)?.[1] ?? null);
      let list = writesOf.get(v);
      if (!list) writesOf.set(v, (list = []));
      list.push(w);
    }
    const lostHere = new Set<CompletedOp>();
    for (const r of ops) {
      if (r.f !== 'read' || r.type !== 'ok') continue;
      const got = tuple(r.value)?.[1] ?? null;
      const sources = writesOf.get(canonical(got)) ?? [];
      // The read's value was surely overwritten by W if every write of it (and, for nil, the
      // initial state) completed before W was invoked, and W completed before the read was invoked.
      for (const w of writes) {
        if (w.type !== 'ok' || lostHere.has(w) || w.ret >= r.call) continue;
        const wv = tuple(w.invokeValue)?.[1] ?? null;
        if (canonical(wv) === canonical(got)) continue;
        if (sources.some((s) => s.ret > w.call)) continue;
        if (got !== null && sources.length === 0) continue; // a value never written: the register checker reports it
        lostHere.add(w);
        lost.push({ key: tuple(r.value)?.[0], value: wv, writeAt: w.invoke.index, readAt: r.invoke.index, read: got });
      }
    }
  }
  return lost;
}

/** The `lost-writes` checker. */
export function lostWritesChecker(): Checker {
  return {
    name: 'lost-writes',
    check(history: History): CheckerResult {
      const lost = findLostWrites(history);
      if (lost.length === 0) return { valid: true, summary: 'lost-writes: no acknowledged write proven lost by a later read', lost: [] };
      const first = lost[0] as LostWrite;
      const describe = (l: LostWrite): string => `write of ${describeValue(l.value)} to ${describeValue(l.key)} (event ${l.writeAt}), read ${describeValue(l.read)} at event ${l.readAt}`;
      // The report shows the summary: it names the writes (the first few; results.json lists up to 100).
      const named = lost.slice(0, 3).map(describe).join('; ');
      const summary = `lost-writes: ${lost.length} acknowledged writes proven lost by a later read — ${named}${lost.length > 3 ? '; …' : ''}`;
      return { valid: false, reason: `${lost.length} acknowledged writes lost; first: ${describe(first)}`, summary, lost: lost.slice(0, 100), listed: lost.slice(0, MAX_LISTED).map(describe) };
    },
  };
}

/** `checker` over the history without the ops named `f` (their invocations and completions). */
export function withoutOps(checker: Checker, fs: readonly string[]): Checker {
  const keep = (h: History): History => h.filter((op) => !fs.includes(op.f));
  return {
    name: checker.name,
    check: (h, ctx) => checker.check(keep(h), ctx),
    ...(checker.checkAsync ? { checkAsync: (h: History, ctx: Parameters<NonNullable<Checker['checkAsync']>>[1]) => (checker.checkAsync as NonNullable<Checker['checkAsync']>)(keep(h), ctx) } : {}),
  };
}
