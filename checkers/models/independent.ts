/**
 * Jepsen's independent keys: ops whose values are `[key value]` tuples are split by key into
 * separate histories (P-compositionality), each checked against a single-key model.
 */
import type { CompletedOp } from '../history/complete.js';
import { ModelInputError, type Model, type Partition } from '../model.js';
import { canonical, describeValue } from '../values.js';

/** The `[key value]` tuple of `v`, or throws naming the op. */
function tuple(v: unknown, op: CompletedOp, which: string): [unknown, unknown] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new ModelInputError(`independent keys: the ${which} value must be a [key value] tuple, got ${describeValue(v)}`, op);
  }
  return [v[0], v[1]];
}

/**
 * Groups ops by key and unwraps their values. `keyOf` returns an op's key and its value without
 * the key (for the invocation and for the completion).
 */
export function partitionByKey(
  ops: readonly CompletedOp[],
  keyOf: (op: CompletedOp) => { key: unknown; invokeValue: unknown; value: unknown },
): Partition[] {
  const groups = new Map<string, { key: unknown; ops: CompletedOp[] }>();
  for (const op of ops) {
    const { key, invokeValue, value } = keyOf(op);
    const id = typeof key === 'string' ? `s${key}` : canonical(key);
    let g = groups.get(id);
    if (g === undefined) {
      g = { key, ops: [] };
      groups.set(id, g);
    }
    g.ops.push({ ...op, key, invokeValue, value });
  }
  return [...groups.values()];
}

/** Unwraps `[k v]` tuples of an op (invocation and, for ok ops, completion). */
export function splitTuple(op: CompletedOp): { key: unknown; invokeValue: unknown; value: unknown } {
  const [key, invokeValue] = tuple(op.invokeValue, op, 'invocation');
  if (op.type === 'info') return { key, invokeValue, value: invokeValue };
  const [k2, value] = tuple(op.value, op, 'completion');
  if (canonical(k2) !== canonical(key)) {
    throw new ModelInputError(`independent keys: the completion's key ${describeValue(k2)} differs from the invocation's ${describeValue(key)}`, op);
  }
  return { key, invokeValue, value };
}

/** `model` over Jepsen independent tuples: each key's sub-history is checked separately. */
export function independent<S, I>(model: Model<S, I>): Model<S, I> {
  return {
    ...model,
    name: `${model.name}`,
    description: `${model.description}, per key of [key value] tuples`,
    partition(ops) {
      const parts = partitionByKey(ops, splitTuple);
      if (!model.partition) return parts;
      return parts.flatMap((p) => (model.partition as NonNullable<Model['partition']>)(p.ops).map((q) => ({ key: q.key === null ? p.key : [p.key, q.key], ops: q.ops })));
    },
  };
}
