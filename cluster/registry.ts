/**
 * A registry of definitions by name — the list behind `workloads/index.ts` (workloads) and
 * `cluster/backends.ts` (backends): register once, look up by name with an error that names what
 * is registered, unregister (tests).
 */

/** Definitions of one kind, by name, in registration order. */
export class Registry<T extends { readonly name: string }> {
  readonly #kind: string;
  readonly #byName = new Map<string, T>();

  /** `kind` names the definitions in messages, e.g. `workload`. */
  constructor(kind: string) {
    this.#kind = kind;
  }

  /**
   * Adds `def`.
   * @throws RangeError when its name is taken
   */
  register(def: T): void {
    if (this.#byName.has(def.name)) throw new RangeError(`a ${this.#kind} named "${def.name}" is already registered`);
    this.#byName.set(def.name, def);
  }

  /** Removes the definition named `name`; true if it was there. */
  unregister(name: string): boolean {
    return this.#byName.delete(name);
  }

  /** Every definition, in registration order. */
  all(): readonly T[] {
    return [...this.#byName.values()];
  }

  /** Every name, in registration order. */
  names(): readonly string[] {
    return [...this.#byName.keys()];
  }

  /**
   * The definition named `name`.
   * @throws RangeError naming the registered ones
   */
  get(name: string): T {
    const def = this.#byName.get(name);
    if (def === undefined) throw new RangeError(`unknown ${this.#kind} "${name}"; ${this.#kind}s: ${this.names().join(', ')}`);
    return def;
  }
}
