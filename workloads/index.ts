/**
 * The workloads: the contract (`workload.ts`) and the registry that maps a workload's name (the
 * `workload.name` of an experiment) to its definition. `dsync run` and the experiment schema
 * know workloads only through this registry: adding one is a file in `workloads/` and one
 * {@link registerWorkload} line below.
 */
import { lockWorkloadDefinition } from './lock.js';
import type { WorkloadDefinition } from './workload.js';

export { defineWorkload } from './workload.js';
export type { Client, Workload, WorkloadConfig, WorkloadContext, WorkloadDefinition, WorkloadSchema } from './workload.js';

const registry = new Map<string, WorkloadDefinition>();

/**
 * Adds a workload to the registry (tests add their own).
 * @throws RangeError when the name is taken
 */
export function registerWorkload(def: WorkloadDefinition): void {
  if (registry.has(def.name)) throw new RangeError(`a workload named "${def.name}" is already registered`);
  registry.set(def.name, def);
}

/** Removes a workload from the registry (for tests that registered one); true if it was there. */
export function unregisterWorkload(name: string): boolean {
  return registry.delete(name);
}

/** The registered workloads, in registration order. */
export function workloadDefinitions(): readonly WorkloadDefinition[] {
  return [...registry.values()];
}

/**
 * The workload registered as `name`.
 * @throws RangeError naming the registered ones
 */
export function workloadDefinition(name: string): WorkloadDefinition {
  const def = registry.get(name);
  if (def === undefined) throw new RangeError(`unknown workload "${name}"; workloads: ${[...registry.keys()].join(', ')}`);
  return def;
}

registerWorkload(lockWorkloadDefinition);
