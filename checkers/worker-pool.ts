/**
 * A small pool of `worker_threads` workers running one task at a time each. Workers start lazily
 * (up to `size`), are unref'd while idle (an idle pool never keeps the process alive), and a
 * worker that dies — an uncaught error, `process.exit`, or its `resourceLimits` heap exceeded —
 * fails only its own task and is replaced on demand. A task can be cancelled with an
 * `AbortSignal`: a queued one never starts, a running one has its worker terminated.
 *
 * The protocol, for a worker script: it receives each task as a message, may post
 * `{kind: 'event', data}` any number of times, and ends the task with `{kind: 'result', data}`
 * or `{kind: 'error', message}` (a failure it caught; the worker stays usable).
 */
import { availableParallelism } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** Options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * The most workers running at once.
   * @default os.availableParallelism()
   */
  readonly size?: number;
  /** Each worker's `resourceLimits` (e.g. `maxOldGenerationSizeMb`). @default none */
  readonly resourceLimits?: ResourceLimits;
}

/** How a task ended. */
export type TaskOutcome<R> =
  | { readonly kind: 'done'; readonly result: R }
  /** The worker reported an error, or died (then it was replaced). */
  | { readonly kind: 'failed'; readonly reason: string; readonly died: boolean }
  | { readonly kind: 'cancelled' };

/** Hooks of one task. */
export interface TaskHooks<E> {
  /** Called when a worker starts the task. */
  readonly onStart?: () => void;
  /** Called with each `event` message the worker posts for the task. */
  readonly onEvent?: (data: E) => void;
  /** Cancels the task. */
  readonly signal?: AbortSignal;
}

/** A message from a pool worker. */
export type WorkerMessage = { readonly kind: 'event'; readonly data: unknown } | { readonly kind: 'result'; readonly data: unknown } | { readonly kind: 'error'; readonly message: string };

interface Job {
  readonly task: unknown;
  readonly hooks: TaskHooks<unknown>;
  readonly resolve: (o: TaskOutcome<unknown>) => void;
  worker?: Worker;
  settled: boolean;
  onAbort?: () => void;
}

/** A pool of workers running `script`, one task per worker at a time. */
export class WorkerPool<T, R, E = unknown> {
  readonly #script: URL;
  readonly #size: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
  /** Why each worker died, from its `error` event, for its `exit` event. */
  readonly #deathCause = new Map<Worker, string>();
  #closed = false;
  #started = 0;

  constructor(script: URL, options: WorkerPoolOptions = {}) {
    this.#script = script;
    this.#size = Math.max(1, options.size ?? availableParallelism());
    this.#resourceLimits = options.resourceLimits;
  }

  /** The most workers running at once. */
  get size(): number {
    return this.#size;
  }

  /** Workers started so far (replacements included). */
  get started(): number {
    return this.#started;
  }

  /** Workers alive now. */
  get alive(): number {
    return this.#idle.length + this.#busy.size;
  }

  /** Runs `task` on a worker; resolves with how it ended (never rejects). */
  run(task: T, hooks: TaskHooks<E> = {}): Promise<TaskOutcome<R>> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve({ kind: 'failed', reason: 'the worker pool is closed', died: false });
      const job: Job = { task, hooks: hooks as TaskHooks<unknown>, resolve: resolve as (o: TaskOutcome<unknown>) => void, settled: false };
      if (hooks.signal?.aborted) return resolve({ kind: 'cancelled' });
      if (hooks.signal) {
        job.onAbort = () => this.#cancel(job);
        hooks.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Terminates every worker; queued and running tasks end as `failed`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, { kind: 'failed', reason: 'the worker pool was closed', died: false });
    const workers = [...this.#idle.splice(0), ...this.#busy.keys()];
    for (const [, job] of this.#busy) this.#settle(job, { kind: 'failed', reason: 'the worker pool was closed', died: false });
    this.#busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #settle(job: Job, outcome: TaskOutcome<unknown>): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.hooks.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  #cancel(job: Job): void {
    if (job.settled) return;
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) this.#queue.splice(queued, 1);
    const w = job.worker;
    this.#settle(job, { kind: 'cancelled' });
    if (w !== undefined) {
      // The worker is mid-task: stop it; its exit handler forgets it and the pool starts another.
      this.#deathCause.set(w, 'cancelled');
      void w.terminate();
    }
  }

  #spawn(): Worker {
    const w = new Worker(this.#script, this.#resourceLimits ? { resourceLimits: this.#resourceLimits } : {});
    this.#started++;
    w.on('message', (m: WorkerMessage) => {
      const job = this.#busy.get(w);
      if (job === undefined || job.settled) return;
      if (m.kind === 'event') {
        job.hooks.onEvent?.(m.data);
        return;
      }
      this.#busy.delete(w);
      this.#settle(job, m.kind === 'result' ? { kind: 'done', result: m.data } : { kind: 'failed', reason: m.message, died: false });
      this.#release(w);
    });
    w.on('error', (err: Error & { code?: string }) => {
      const limit = this.#resourceLimits?.maxOldGenerationSizeMb;
      this.#deathCause.set(
        w,
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of memory${limit === undefined ? '' : ` (heap limit ${limit} MB)`}`
          : `the worker failed: ${err.message}`,
      );
    });
    w.on('exit', (code) => {
      const cause = this.#deathCause.get(w) ?? `the worker exited with code ${code}`;
      this.#deathCause.delete(w);
      const idle = this.#idle.indexOf(w);
      if (idle !== -1) this.#idle.splice(idle, 1);
      const job = this.#busy.get(w);
      this.#busy.delete(w);
      if (job !== undefined) this.#settle(job, { kind: 'failed', reason: cause, died: true });
      this.#dispatch();
    });
    return w;
  }

  #release(w: Worker): void {
    w.unref();
    this.#idle.push(w);
    this.#dispatch();
  }

  #dispatch(): void {
    while (!this.#closed && this.#queue.length > 0) {
      let w = this.#idle.pop();
      if (w === undefined) {
        if (this.alive >= this.#size) return;
        w = this.#spawn();
      }
      const job = this.#queue.shift() as Job;
      job.worker = w;
      w.ref();
      this.#busy.set(w, job);
      job.hooks.onStart?.();
      try {
        w.postMessage(job.task);
      } catch (e) {
        // e.g. a DataCloneError: the task cannot cross to a worker
        this.#busy.delete(w);
        this.#settle(job, { kind: 'failed', reason: `the task could not be sent to a worker: ${(e as Error).message}`, died: false });
        this.#release(w);
        return;
      }
    }
  }
}
