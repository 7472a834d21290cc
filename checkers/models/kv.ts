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
  /** {@link hashOf} `v`, and the multiplier that appends `v` to a hash (B^|v| mod 2^32). */
  readonly h: number;
  readonly pow: number;
  /** A get's prefix hashes: `prefix[n]` is the hash of `v`'s first `n` characters. */
  readonly prefix?: Int32Array;
}

/**
 * A key's string with its polynomial hash, kept incrementally: appending costs O(|v|) once per
 * step, and states compare by hash before they compare strings (long strings flatten slowly).
 */
interface KvState {
  readonly s: string;
  readonly h: number;
}

const B = 0x01000193;

/** The polynomial hash of `s`: sum of s[i]·B^(n-1-i), mod 2^32. */
function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, B) + s.charCodeAt(i)) | 0;
  return h;
}

function powOf(n: number): number {
  let p = 1;
  for (let i = 0; i < n; i++) p = Math.imul(p, B);
  return p;
}

const input = (k: number, v: string): KvInput => ({ k, v, h: hashOf(v), pow: powOf(v.length) });

function getInput(v: string): KvInput {
  const prefix = new Int32Array(v.length + 1);
  for (let i = 0; i < v.length; i++) prefix[i + 1] = (Math.imul(prefix[i] as number, B) + v.charCodeAt(i)) | 0;
  return { ...input(GET, v), prefix };
}

function asString(v: unknown, op: CompletedOp): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw new ModelInputError(`kv values are strings, got ${describeValue(v)}`, op);
}

/** Porcupine's key-value model, partitioned by key. */
export const kv = defineModel<KvState, KvInput>({
  name: 'kv',
  description: 'key-value store, every key initially "": :get → string, :put s, :append s; keys in [key value] tuples or a :key field',
  initialValue: 'every key\'s initial string (default "")',
  init: (_ctx, initial) => {
    const s = initial === undefined || initial === null ? '' : String(initial);
    return { s, h: hashOf(s) };
  },
  partition: (ops) =>
    partitionByKey(ops, (op) =>
      op.invoke.key !== undefined ? { key: op.invoke.key, invokeValue: op.invokeValue, value: op.value } : splitTuple(op),
    ),
  prepare(op) {
    switch (op.f) {
      case 'get':
        return op.type === 'info' ? null : getInput(asString(op.value, op));
      case 'put':
        return input(PUT, asString(op.invokeValue, op));
      case 'append':
        return input(APPEND, asString(op.invokeValue, op));
      default:
        throw new ModelInputError(`kv has no operation '${op.f}' (it takes get, put, append)`, op);
    }
  },
  step(s, x) {
    switch (x.k) {
      case GET:
        return s.h === x.h && s.s === x.v ? s : undefined;
      case PUT:
        return { s: x.v, h: x.h };
      default:
        return { s: s.s + x.v, h: (Math.imul(s.h, x.pow) + x.h) | 0 };
    }
  },
  // Where a key is only appended to (no put), strings only grow: a get can still happen only if
  // its result starts with the current string. Told by the prefix hash alone: a different hash
  // surely means a different prefix (equal hashes are taken as possible, never as impossible).
  stillPossible: (inputs) =>
    inputs.some((x) => x.k === PUT)
      ? undefined
      : (s, x) => x.prefix === undefined || (s.s.length <= x.v.length && x.prefix[s.s.length] === s.h),
  equal: (a, b) => a.h === b.h && a.s === b.s,
  hash: (s) => s.h,
  inputKey: (x) => `${x.k}:${x.v}`,
  describeState: (s) => JSON.stringify(s.s),
});
