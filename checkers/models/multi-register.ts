/**
 * `multi-register`: Knossos' registers read and written together in transactions. The single
 * op is `:txn` whose value is a list of micro-ops `[:read k v]` / `[:write k v]` (also `:r`/`:w`),
 * applied in order; every register starts as nil (or as `--initial` says) and a read of nil
 * constrains nothing. Keys that are keywords and strings of the same name are the same register.
 */
import { defineModel, ModelConfigError, ModelInputError } from '../model.js';
import { Keyword } from '../history/edn.js';
import { describeValue } from '../values.js';

/** A micro-op with interned key and value. */
interface MicroOp {
  readonly write: boolean;
  readonly k: number;
  readonly v: number;
}

/** Register values by interned key; `key` is a canonical text for equality. */
interface Registers {
  readonly values: ReadonlyMap<number, number>;
  readonly key: string;
}

const nameOf = (f: unknown): unknown => (f instanceof Keyword ? f.name : f);

function makeRegisters(values: Map<number, number>): Registers {
  const key = [...values].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}=${v}`).join(',');
  return { values, key };
}

/** Registers read and written in transactions. */
export const multiRegister = defineModel<Registers, MicroOp[]>({
  name: 'multi-register',
  description: 'registers read and written in transactions, initially nil: :txn [[:read k v] [:write k v] ...]',
  initialValue: 'a map of registers to their initial values, e.g. {:x 0 :y 0} (default: all nil)',
  init(ctx, initial) {
    const values = new Map<number, number>();
    const set = (k: unknown, v: unknown): void => {
      if (v !== null && v !== undefined) values.set(ctx.intern(nameOf(k)), ctx.intern(v));
    };
    if (initial instanceof Map) for (const [k, v] of initial) set(k, v);
    else if (initial !== null && typeof initial === 'object' && Object.getPrototypeOf(initial) === Object.prototype) {
      // an EDN map with keyword keys, or a JSON object
      for (const [k, v] of Object.entries(initial)) set(k, v);
    } else if (initial !== undefined && initial !== null) {
      throw new ModelConfigError(`multi-register: the initial value must be a map of registers to values, got ${describeValue(initial)}`);
    }
    return makeRegisters(values);
  },
  prepare(op, ctx) {
    if (op.f !== 'txn') throw new ModelInputError(`multi-register has no operation '${op.f}' (it takes txn)`, op);
    const txn = op.value;
    if (!Array.isArray(txn)) throw new ModelInputError(`a txn value must be a list of [f k v] micro-ops, got ${describeValue(txn)}`, op);
    const out: MicroOp[] = [];
    for (const mop of txn) {
      const f = Array.isArray(mop) && mop.length === 3 ? nameOf(mop[0]) : undefined;
      if (f !== 'read' && f !== 'r' && f !== 'write' && f !== 'w') {
        throw new ModelInputError(`a micro-op must be [:read k v] or [:write k v], got ${describeValue(mop)}`, op);
      }
      const [, k, v] = mop as unknown[];
      const write = f === 'write' || f === 'w';
      // Reads of an info txn are unknown, as are reads of nil.
      if (!write && (op.type === 'info' || v === null || v === undefined)) continue;
      out.push({ write, k: ctx.intern(nameOf(k)), v: ctx.intern(v) });
    }
    return out.length === 0 ? null : out;
  },
  step(s, txn) {
    let values: Map<number, number> | null = null;
    for (const m of txn) {
      const cur = (values ?? s.values).get(m.k) ?? 0;
      if (m.write) {
        if (cur === m.v) continue;
        values ??= new Map(s.values);
        if (m.v === 0) values.delete(m.k);
        else values.set(m.k, m.v);
      } else if (cur !== m.v) {
        return undefined;
      }
    }
    return values === null ? s : makeRegisters(values);
  },
  equal: (a, b) => a.key === b.key,
  describeState: (s, ctx) =>
    `{${[...s.values].map(([k, v]) => `${describeValue(ctx.valueOf(k))} ${describeValue(ctx.valueOf(v))}`).join(', ')}}`,
});
