/**
 * The workloads: the contract (`workload.ts`) and the registry that maps a workload's name (the
 * `workload.name` of an experiment) to its definition. `dsync run` and the experiment schema
 * know workloads only through this registry: adding one is a file in `workloads/` and one
 * {@link registerWorkload} line below.
 */
import { lockWorkloadDefinition } from './lock.js';
import { queueWorkloadDefinition } from './queue.js';
import { cacheWorkloadDefinition } from './cache.js';
import type { WorkloadDefinition } from './workload.js';
import { Registry } from '../cluster/registry.js';

export { defineWorkload } from './workload.js';
export type { Client, Workload, WorkloadConfig, WorkloadContext, WorkloadDefinition, WorkloadFacts, WorkloadIssue, WorkloadSchema } from './workload.js';

const registry = new Registry<WorkloadDefinition>('workload');

/**
 * Adds a workload to the registry (tests add their own).
 * @throws RangeError when the name is taken
 */
export const registerWorkload = (def: WorkloadDefinition): void => registry.register(def);

/** Removes a workload from the registry (for tests that registered one); true if it was there. */
export const unregisterWorkload = (name: string): boolean => registry.unregister(name);

/** The registered workloads, in registration order. */
export const workloadDefinitions = (): readonly WorkloadDefinition[] => registry.all();

/**
 * The workload registered as `name`.
 * @throws RangeError naming the registered ones
 */
export const workloadDefinition = (name: string): WorkloadDefinition => registry.get(name);

registerWorkload(lockWorkloadDefinition);
registerWorkload(queueWorkloadDefinition);
registerWorkload(cacheWorkloadDefinition);
