/**
 * The search task: what crosses to a search worker and back. Only structured-clone data crosses
 * — the model's registry name (the worker looks the model up with `findModel`; its functions
 * never cross), the prepared ops, the initial state and the limits; back come the search's
 * outcome (whose states are model data: numbers, strings, plain objects, arrays and Maps, none
 * depending on a prototype) and, now and then, the configurations explored so far.
 */
import { findModel } from './models/index.js';
import type { Model } from './model.js';
import { search, type SearchOp, type SearchOutcome } from './search.js';

/** One partition's search, as sent to a worker. */
export interface SearchTask {
  /** The registry name of the model (see {@link findModel}). */
  readonly model: string;
  readonly ops: readonly SearchOp<unknown>[];
  /** The initial model state. */
  readonly initial: unknown;
  /**
   * When the search gives up, as wall-clock milliseconds (`performance.timeOrigin +
   * performance.now()`, comparable across threads); `Infinity` for never.
   */
  readonly deadline: number;
  readonly maxCacheEntries: number;
  /** The most bytes the search's cache may hold. */
  readonly maxBytes: number;
  /** How often the worker posts the configurations explored so far, in milliseconds. */
  readonly progressEveryMs: number;
}

/** A progress event of a search task: configurations explored so far. */
export type SearchTaskProgress = number;

/**
 * Whether `model` can be searched by a worker: it is a registry model, or one wrapped by
 * `independent` (which only adds `partition`), so that the worker's {@link findModel} gives the
 * very same `step`, `equal`, `hash` and `inputKey`.
 */
export function searchableInWorker(model: Model<unknown, unknown>): boolean {
  const base = findModel(model.name);
  return base !== undefined && base.step === model.step && base.equal === model.equal && base.hash === model.hash && base.inputKey === model.inputKey;
}

/**
 * Runs a search task (in a worker). `post` gets progress counts at most every
 * `task.progressEveryMs`.
 * @throws RangeError when the model is not in the registry
 */
export function runSearchTask(task: SearchTask, post: (explored: SearchTaskProgress) => void): SearchOutcome<unknown> {
  const model = findModel(task.model);
  if (model === undefined) throw new RangeError(`no model named "${task.model}" in the worker's registry`);
  const now = (): number => performance.now();
  let last = now();
  return search(model, task.ops, task.initial, {
    deadline: task.deadline - performance.timeOrigin,
    now,
    maxCacheEntries: task.maxCacheEntries,
    maxBytes: task.maxBytes,
    progress: (explored) => {
      const t = now();
      if (t - last < task.progressEveryMs) return;
      last = t;
      post(explored);
    },
  });
}
