/**
 * The operation: one event of a history, in Jepsen's shape.
 *
 * An operation is an `invoke` followed (for the same process) by its completion: `ok` (it
 * happened), `fail` (it surely did not happen) or `info` (unknown: it may have happened, at any
 * time after its invocation). Nemesis events have `process: "nemesis"`.
 */
import { EdnSymbol, Keyword } from './edn.js';

/** The four event types of a Jepsen history. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** A process id: a client's integer, or a name such as `"nemesis"`. */
export type ProcessId = number | string;

/** The process id of nemesis events. */
export const NEMESIS: ProcessId = 'nemesis';

/** One history event, as in DESIGN.md's contract. Extra fields (e.g. `node`) are kept. */
export interface Op {
  /** Position of this event in its history, from 0. */
  readonly index: number;
  readonly type: OpType;
  /** The function, e.g. `read`, `acquire`. */
  readonly f: string;
  /** The argument (invoke) or result (completion); `null` when absent. */
  readonly value: unknown;
  readonly process: ProcessId;
  /** Nanoseconds since the run started; absent in some hand-written histories. */
  readonly time?: number;
  /** Why a completion failed, if it says. */
  readonly error?: unknown;
  readonly [extra: string]: unknown;
}

/** A history: the events in real-time order. */
export type History = readonly Op[];

const TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

const nameOf = (v: unknown): unknown =>
  v instanceof Keyword || v instanceof EdnSymbol ? v.name : v;

/** A record that is not a valid operation; `field` names the offending field if one does. */
export class OpShapeError extends Error {
  readonly code = 'OP_SHAPE';
  constructor(
    readonly reason: string,
    readonly field?: string,
  ) {
    super(reason);
    this.name = 'OpShapeError';
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v instanceof Keyword) return v.toString();
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function bad(field: string, expected: string, got: unknown): never {
  throw new OpShapeError(`field '${field}': expected ${expected}, got ${describeValue(got)}`, field);
}

/**
 * Turns a parsed record (a JSON object, or an EDN map with keyword keys) into an {@link Op}, in
 * place: keywords in `type`, `f` and `process` become strings, a missing `value` becomes `null`,
 * and `index` defaults to `position`. Other fields are kept as they are.
 *
 * This runs once per event of multi-megabyte histories, so it checks the few fields by hand
 * rather than through a schema library.
 * @throws OpShapeError naming the field that is missing or mistyped.
 */
export function toOp(record: unknown, position: number): Op {
  if (record === null || typeof record !== 'object' || Array.isArray(record) || Object.getPrototypeOf(record) !== Object.prototype) {
    throw new OpShapeError(`expected an operation map, got ${describeValue(record)}`);
  }
  const r = record as Record<string, unknown>;
  const type = nameOf(r.type);
  if (typeof type !== 'string' || !TYPES.has(type)) bad('type', 'one of invoke, ok, fail, info', r.type);
  const f = nameOf(r.f);
  if (typeof f !== 'string' || f === '') bad('f', 'a non-empty name', r.f);
  const process = nameOf(r.process);
  if (!(typeof process === 'number' ? Number.isInteger(process) : typeof process === 'string' && process !== '')) {
    bad('process', 'an integer or a name', r.process);
  }
  const { time, index } = r;
  if (time !== undefined && (typeof time !== 'number' || !(time >= 0))) bad('time', 'a non-negative number', time);
  if (index !== undefined && (typeof index !== 'number' || !Number.isInteger(index) || index < 0)) {
    bad('index', 'a non-negative integer', index);
  }
  r.type = type;
  r.f = f;
  r.process = process;
  if (index === undefined) r.index = position;
  if (r.value === undefined) r.value = null;
  return r as unknown as Op;
}

/** Is this a nemesis event rather than a client's? */
export function isNemesis(op: Op): boolean {
  return op.process === NEMESIS;
}
