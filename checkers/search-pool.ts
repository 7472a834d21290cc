/**
 * The pool of search workers the parallel checker runs partitions on (see `worker-pool.ts` and
 * `search-worker.ts`). One pool per (size, heap limit) is shared by every check and created on
 * first use; its idle workers are unref'd, so it never keeps a process alive.
 */
import { availableParallelism } from 'node:os';
import type { SearchTask, SearchTaskProgress } from './search-task.js';
import type { SearchOutcome } from './search.js';
import { WorkerPool } from './worker-pool.js';

/** A pool of workers running search tasks. */
export type SearchPool = WorkerPool<SearchTask, SearchOutcome<unknown>, SearchTaskProgress>;

/** Options of a {@link SearchPool}. */
export interface SearchPoolOptions {
  /** The most searches running at once. @default os.availableParallelism() */
  readonly size?: number;
  /**
   * Each worker's V8 heap limit (`resourceLimits.maxOldGenerationSizeMb`), in MB: a search that
   * outgrows it kills only its worker, and its partition is `unknown`.
   * @default 1024
   */
  readonly heapMb?: number;
}

const SEARCH_WORKER = new URL('./search-worker.js', import.meta.url);

/** A new pool of search workers (close it with `close()` when done). */
export function createSearchPool(options: SearchPoolOptions = {}): SearchPool {
  return new WorkerPool(SEARCH_WORKER, {
    size: options.size ?? availableParallelism(),
    resourceLimits: { maxOldGenerationSizeMb: options.heapMb ?? 1024 },
  });
}

const shared = new Map<string, SearchPool>();

/** The shared pool of `size` workers with a heap limit of `heapMb` MB each, created on first use. */
export function sharedSearchPool(size: number, heapMb: number): SearchPool {
  const key = `${size}/${heapMb}`;
  let pool = shared.get(key);
  if (pool === undefined) {
    pool = createSearchPool({ size, heapMb });
    shared.set(key, pool);
  }
  return pool;
}

/** Closes every shared pool (their workers end); later checks start new ones. */
export async function closeSharedSearchPools(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  await Promise.all(pools.map((p) => p.close()));
}
