/**
 * The checkers: the checker contract and verdicts, histories (EDN/JSONL), the linearizability
 * engine, its checker and models, and perf statistics.
 */
export { EXIT_CODES, exitCode, worseExitCode, mergeValidity, safeCheck, safeCheckAsync, composeCheckers } from './checker.js';
export type { Validity, RunVerdict, ExitCode, Checker, CheckerResult, CheckContext, CheckProgress, ComposedResult } from './checker.js';
export { linearizableChecker, linearizabilitySummary } from './linearizable-checker.js';
export { fencingTokensChecker, checkFencingTokens } from './fencing-checker.js';
export type { LinearizableCheckerResult } from './linearizable-checker.js';
export { perfStats, pairClientOps, latencyNs, serviceTimeNs, withLatencyHistogram, AVAILABILITY_DEADLINE_MS } from './perf.js';
export type { PerfStats, PerfOptions, LatencySummary, OpTypeStats, FaultWindow, Availability, AvailabilityStats, WindowAvailability, NoOkStretch, ThroughputBucket, ClientOp, LatencyPercentiles } from './perf.js';
export { Keyword, EdnSymbol, Tagged, EdnSyntaxError, parseEdn, parseEdnForms, writeEdn } from './history/edn.js';
export type { EdnValue, EdnForm } from './history/edn.js';
export { toOp, isNemesis, NEMESIS, OpShapeError } from './history/op.js';
export type { Op, OpType, ProcessId, History } from './history/op.js';
export { readHistory, parseHistory, parseEdnHistory, parseJsonlHistory, detectFormat, HistoryError, HISTORY_FILE_RE } from './history/read.js';
export type { ParsedHistory, HistoryFormat } from './history/read.js';
export { opToJson, opToEdn, historyToJsonl, historyToEdn } from './history/write.js';
export { completeHistory, PairingError } from './history/complete.js';
export type { CompletedOp } from './history/complete.js';
export { ModelInputError, ModelConfigError, defineModel } from './model.js';
export type { Model, Partition, PrepareContext } from './model.js';
export { checkHistory, checkOperations, checkHistoryAsync, checkOperationsAsync } from './linearizable.js';
export type { CheckOptions, ParallelCheckOptions, LinearizabilityResult, PartitionResult, LinearizationStep, OpRef } from './linearizable.js';
export { createSearchPool, sharedSearchPool, closeSharedSearchPools } from './search-pool.js';
export type { SearchPool, SearchPoolOptions } from './search-pool.js';
export { findModel, modelNames, independent, register, casRegister, mutex, rwLock, fencedLock, leaseLock, kv, multiRegister } from './models/index.js';
export { leaseParams } from './models/lease-lock.js';
export type { LeaseParams } from './models/lease-lock.js';
export { canonical } from './values.js';
export { nodeLogChecker, checkNodeLogs, NODE_LOG_RULES, MAX_MATCHES } from './node-log-checker.js';
export type { NodeLogRule, NodeLogMatch, NodeLogRuleResult, NodeLogResult } from './node-log-checker.js';
export { queueChecker, checkQueue, isQueueResult, QUEUE_CONTRACTS } from './queue.js';
export type { QueueContract, QueueCheckerResult, QueueMessageRef, UnexpectedRef, UnexpectedWhy, DuplicateRef, AckedLostRef, FifoInversion } from './queue.js';
export { mesiChecker, lostWritesChecker, withoutOps, findLostWrites, sampleViolations } from './cache.js';
export type { LostWrite } from './cache.js';
