/**
 * The workload contract (Maelstrom's `workload()`): a client that turns ops into requests, the
 * generator of the main phase, the generator of the final phase (after the nemesis healed
 * everything), and the checker that judges the history.
 */
import type { Op } from '../checkers/history/op.js';
import type { Checker } from '../checkers/checker.js';
import type { Generator } from '../harness/generator/generator.js';
import type { Completion } from '../harness/generator/interpreter.js';

/** Talks to the system under test for every client process. */
export interface Client {
  /**
   * Performs one op (its invoke event) and resolves to the completion: `ok`, `fail` (surely did
   * not happen) or `info` (unknown). Expected failures are values; it rejects only on a bug.
   */
  invoke(op: Op): Promise<Completion>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** A workload ready to run. */
export interface Workload {
  readonly name: string;
  readonly client: Client;
  /** Client ops of the main phase, endless: the harness adds the rate and the time limit. */
  readonly generator: Generator;
  /** Client ops after the final heal (the harness adds a time limit), or null for none. */
  readonly finalGenerator: Generator | null;
  readonly checker: Checker;
  /** One line for the run's log about what this workload does and assumes. */
  readonly describe: string;
}
