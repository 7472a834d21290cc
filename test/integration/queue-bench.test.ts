/**
 * The queue benchmark against the real systems it compares with: a tiny `dsync bench queue
 * --compare redis|nats --compare-only` (1 s, 2 producers + 2 consumers) and a 3-server JetStream
 * cluster, each checked for a clean drain (nothing lost, duplicated or unexpected) and for
 * leaving no process or folder behind. Skipped, saying why, when the server binary is not on PATH.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsAvailable, startJetStream } from '../../harness/bench/jetstream-target.js';
import { queueBenchCommand, type QueueCompare } from '../../harness/bench/queue-bench.js';
import { queueNames, runQueueLoad, type QueueLoadResult } from '../../harness/bench/queue-load.js';
import { redisAvailable } from '../../harness/bench/redis-target.js';
import { processesUsing } from '../support/processes.js';

/** Skips the running test, naming the missing binary in its title. */
function skipWithout(ctx: Mocha.Context, binary: string): never {
  if (ctx.test) ctx.test.title += ` (skipped: ${binary} is not on PATH)`;
  ctx.skip();
}

const assertClean = (r: QueueLoadResult): void => {
  assert.equal(r.errors, 0, r.firstError);
  assert.ok(r.enqueues > 0 && r.messages > 0, `enqueues ${r.enqueues}, messages ${r.messages}`);
  assert.deepEqual({ lost: r.lost, duplicates: r.duplicates, unexpected: r.unexpected, corrupted: r.corrupted }, { lost: 0, duplicates: 0, unexpected: 0, corrupted: 0 });
};

describe('dsync bench queue against the compared systems', function () {
  this.timeout(120_000);

  const tiny = async (compare: QueueCompare): Promise<void> => {
    const root = mkdtempSync(join(tmpdir(), `queue-bench-${compare}-`));
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await queueBenchCommand(
        { nodes: [1], clients: [2], durationS: 1, warmupS: 0, compare, compareOnly: true, json: true, dir: root },
        { out: (l) => out.push(l), err: (l) => err.push(l) },
      );
      assert.equal(code, 0, err.join('\n'));
      const results = out.map((l) => JSON.parse(l) as QueueLoadResult & { type: string; system: string });
      assert.deepEqual(results.map((r) => [r.type, r.system, r.clients]), [['result', compare, 2]]);
      assertClean(results[0] as QueueLoadResult);
      assert.deepEqual(readdirSync(root), [], "the target's folder is removed");
      assert.deepEqual(processesUsing(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it('--compare redis: Redis with an fsync-always AOF, the reliable-queue pattern', async function () {
    if (!(await redisAvailable())) skipWithout(this, 'redis-server');
    await tiny('redis');
  });

  it('--compare nats: one JetStream server', async function () {
    if (!(await natsAvailable())) skipWithout(this, 'nats-server');
    await tiny('nats');
  });

  it('three clustered JetStream servers, streams R=3, clients spread over the servers', async function () {
    if (!(await natsAvailable())) skipWithout(this, 'nats-server');
    const root = mkdtempSync(join(tmpdir(), 'queue-bench-nats3-'));
    const dir = join(root, 'nats');
    const lines: string[] = [];
    try {
      const target = await startJetStream({ servers: 3, dir, queues: queueNames(), log: (l) => lines.push(l) });
      let r: QueueLoadResult;
      try {
        assert.equal(target.label, 'JetStream 3 servers, R=3');
        r = await runQueueLoad(target, { clients: 3, durationMs: 1000 });
      } finally {
        await target.stop();
      }
      assertClean(r);
      assert.match(lines.join('\n'), /8 streams, leaders s\d ×\d/);
      assert.equal(existsSync(dir), false, 'the data dir is removed');
      assert.deepEqual(processesUsing(dir), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
