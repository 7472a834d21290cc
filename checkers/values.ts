/**
 * Value identity for models: canonical text of any history value, and interning of values into
 * small integers so that model states compare with `===`.
 */
import { EdnSymbol, Keyword, Tagged, writeEdn } from './history/edn.js';
import type { PrepareContext } from './model.js';

/**
 * A canonical text for `v`: equal for deeply equal values, whatever the order of map keys or set
 * members. Keywords (`:a`) and strings (`"a"`) stay distinct, as in Clojure.
 */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  switch (typeof v) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    default:
      break;
  }
  if (v instanceof Keyword) return v.toString();
  if (v instanceof EdnSymbol) return `'${v.name}`;
  if (v instanceof Tagged) return `#${v.tag} ${canonical(v.value)}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(' ')}]`;
  if (v instanceof Set) return `#{${[...v].map(canonical).sort().join(' ')}}`;
  if (v instanceof Map) {
    return `{${[...v].map(([k, x]) => `${canonical(k)} ${canonical(x)}`).sort().join(', ')}}`;
  }
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `:${k} ${canonical(x)}`)
      .sort()
      .join(', ')}}`;
  }
  return String(v);
}

/** A value in words for counterexamples: EDN text, shortened if long. */
export function describeValue(v: unknown, max = 200): string {
  const s = writeEdn(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Interns values into integers; one table per check. Implements {@link PrepareContext}. */
export class ValueTable implements PrepareContext {
  readonly #atoms = new Map<unknown, number>();
  readonly #composites = new Map<string, number>();
  readonly #values: unknown[] = [null];

  intern(value: unknown): number {
    if (value === null || value === undefined) return 0;
    const composite = typeof value === 'object' && !(value instanceof Keyword);
    const table = composite ? this.#composites : this.#atoms;
    const key = composite ? canonical(value) : value;
    let id = (table as Map<unknown, number>).get(key);
    if (id === undefined) {
      id = this.#values.length;
      this.#values.push(value);
      (table as Map<unknown, number>).set(key, id);
    }
    return id;
  }

  valueOf(id: number): unknown {
    return this.#values[id];
  }
}
