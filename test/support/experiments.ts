/**
 * Experiments the run-stopping tests share: 3 nodes, a majorities-ring partition from 1 s to 21 s
 * (no op can succeed in it) of a 30 s main phase — a run to stop in the middle of a fault.
 */
export const LONG_FAULT_EXPERIMENT = `description: a long fault, for stopping tests
nodes: 3
timeLimitS: 30
finalPhaseS: 2
concurrency: 6
rate: 40
workload:
  name: lock
  keys: { count: 3, distribution: uniform }
nemesis:
  faults: [partition]
  partition: { topologies: [majorities-ring] }
  schedule:
    interval: { faultS: 20, healS: 1 }
`;
