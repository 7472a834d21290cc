/**
 * `kv`: the key-value store of Porcupine's tests and MIT 6.5840's labs. `:get` returns the key's
 * string, `:put` sets it, `:append` appends to it; every key starts as "". Keys are independent:
 * an op names its key either as a `[key value]` tuple or in a `:key` field.
 */
import type { CompletedOp } from '../history/complete.js';
import { defineModel, ModelInputError } from '../model.js';
import { describeValue } from '../values.js';
import { partitionByKey, splitTuple } from './independent.js';

const GET = 0;
const PUT = 1;
const APPEND = 2;

interface KvInput {
  readonly k: number;
  readonly v: string;
}

function asString(v: unknown, op: CompletedOp): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw new ModelInputError(`kv values are strings, got ${describeValue(v)}`, op);
}

/** Porcupine's key-value model, partitioned by key. */
export const kv = defineModel<string, KvInput>({
  name: 'kv',
  description: 'key-value store, every key initially "": :get → string, :put s, :append s; keys in [key value] tuples or a :key field',
  initialValue: 'every key\'s initial string (default "")',
  init: (_ctx, initial) => (initial === undefined || initial === null ? '' : String(initial)),
  partition: (ops) =>
    partitionByKey(ops, (op) =>
      op.invoke.key !== undefined ? { key: op.invoke.key, invokeValue: op.invokeValue, value: op.value } : splitTuple(op),
    ),
  prepare(op) {
    switch (op.f) {
      case 'get':
        return op.type === 'info' ? null : { k: GET, v: asString(op.value, op) };
      case 'put':
        return { k: PUT, v: asString(op.invokeValue, op) };
      case 'append':
        return { k: APPEND, v: asString(op.invokeValue, op) };
      default:
        throw new ModelInputError(`kv has no operation '${op.f}' (it takes get, put, append)`, op);
    }
  },
  step(s, input) {
    switch (input.k) {
      case GET:
        return s === input.v ? s : undefined;
      case PUT:
        return input.v;
      default:
        return s + input.v;
    }
  },
  describeState: (s) => JSON.stringify(s),
});
