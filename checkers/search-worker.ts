/**
 * The entry of a search worker (see `search-pool.ts`): runs each {@link SearchTask} it receives
 * and posts the outcome, following the protocol of `worker-pool.ts`.
 */
import { parentPort } from 'node:worker_threads';
import { runSearchTask, type SearchTask } from './search-task.js';
import type { WorkerMessage } from './worker-pool.js';

const port = parentPort;
if (port === null) throw new Error('search-worker.js runs as a worker thread only');
port.on('message', (task: SearchTask) => {
  let reply: WorkerMessage;
  try {
    const outcome = runSearchTask(task, (explored) => port.postMessage({ kind: 'event', data: explored } satisfies WorkerMessage));
    reply = { kind: 'result', data: outcome };
  } catch (e) {
    reply = { kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
