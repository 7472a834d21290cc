/**
 * The harness's public surface for workloads and nemeses: the generator contract and its
 * combinators, the op a client completes, seeded randomness and key distributions. Workloads
 * (`workloads/`) and nemeses (`nemesis/`) import harness code from here only, so that the arrows
 * run one way: the harness's run orchestration imports them, never the reverse.
 */
export type { Completion, GenContext, GenResult, Generator, OpSpec } from './generator/generator.js';
export { WAIT_F, wait, isWait, ops, once, repeat, fromFunction, sleep, limit, timeLimit, clientsOnly, nemesisOnly, mix, any, phases, phasesAwaitingNemesis, cycle, rate, stagger } from './generator/combinators.js';
export type { GenStep, Weighted, RateOptions } from './generator/combinators.js';
export { seedRand, nextFloat, nextInt, split } from './generator/rand.js';
export type { Rand } from './generator/rand.js';
export { keyName, keyShare, sampleKey, validateKeyDistribution } from './generator/keys.js';
export type { KeyDistribution } from './generator/keys.js';
export { prng, mulberry32 } from './random.js';
