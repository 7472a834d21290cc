/** The nemesis: fault injection through a cluster backend's powers, its schedule and its config. */
export { nemesisPackage } from './nemesis.js';
export type { Nemesis, NemesisCompletion, NemesisOptions, NemesisPackage } from './nemesis.js';
export {
  nemesisConfigSchema,
  parseNemesisConfig,
  nemesisNodeIssues,
  NemesisConfigError,
  NEMESIS_FAULT_KINDS,
  NEMESIS_TARGETS,
  DEFAULT_TARGETS,
  NEMESIS_FS,
  CLOCK_FAULT_KINDS,
  CLOCK_TARGETS,
} from './config.js';
export type { NemesisConfig, NemesisIssue, NemesisFaultKind, NemesisTarget, NemesisF, TimelineEntry, ClockFaultKind, ClockTarget } from './config.js';
export { PARTITION_TOPOLOGIES, DEFAULT_TOPOLOGIES, partitionFor, randomHalves, isolateOne, isolateLeader, leaderMinority, majoritiesRing, bridge, oneWay, star } from './topology.js';
export type { NetworkPartition, TopologyName } from './topology.js';
export { PACKAGE_NAMES, PACKAGE_FAULTS, packageSteps } from './packages.js';
export type { PackageName, PackageStep } from './packages.js';
export { quorumLeader, minorityLeader } from './leaders.js';
