/**
 * Clock faults on real nodes: a 3-node local cluster under libfaketime, the nemesis bumping the
 * followers' wall clocks by ten minutes (seen in `/status` and in their log timestamps) while
 * the leader's and everyone's timers keep running, then putting them back; and a clear refusal
 * when the library is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op } from '../../checkers/index.js';
import { LocalBackend } from '../../cluster/local/local-backend.js';
import { hasClockControl } from '../../cluster/backend.js';
import { LIBFAKETIME_ENV } from '../../cluster/local/faketime.js';
import { nemesisPackage, parseNemesisConfig } from '../../nemesis/index.js';
import { eventually } from '../support/eventually.js';

/** `node`'s wall clock minus ours, seconds, from its `/status`; null when it does not answer. */
async function skewS(backend: LocalBackend, node: string): Promise<number | null> {
  try {
    const before = Date.now();
    const s = (await (await fetch(`${backend.endpoint(node)}/status`, { signal: AbortSignal.timeout(1000) })).json()) as { now?: number };
    return typeof s.now === 'number' ? (s.now - (before + Date.now()) / 2) / 1000 : null;
  } catch {
    return null;
  }
}

const op = (f: string, value: unknown = null): Op => ({ index: 0, type: 'invoke', f, value, process: 'nemesis', time: 0 }) as Op;

describe('integration: clock faults under libfaketime', function () {
  this.timeout(120_000);
  let dir: string;
  let backend: LocalBackend | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-clock-'));
    backend = await LocalBackend.start({ nodes: 3, dir, nodeArgs: ['--tick-ms', '10'], clockFaults: true });
  });
  after(async () => {
    await backend?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bumping the followers moves their Date.now by +600 s, not the leader’s; stop-clock puts them back', async () => {
    const b = backend as LocalBackend;
    assert.ok(hasClockControl(b));
    const leader = await b.leader(15_000);
    assert.ok(leader !== null, 'a leader');
    for (const n of b.nodes) assert.ok(Math.abs((await skewS(b, n)) ?? 99) < 2, `${n} starts at true time`);

    const { nemesis } = nemesisPackage(parseNemesisConfig({ faults: ['clock'], clock: { kinds: ['bump'], targets: ['followers'] } }), b, { seed: 1 });
    const done = await nemesis.invoke(op('start-clock', { offsetS: 600 }));
    const followers = b.nodes.filter((n) => n !== leader);
    assert.deepEqual(done, { type: 'info', value: { kind: 'bump', target: 'followers', offsets: Object.fromEntries(followers.map((n) => [n, 600])) } });
    for (const n of followers) {
      const s = await skewS(b, n);
      assert.ok(s !== null && Math.abs(s - 600) < 2, `${n} is 600 s ahead, got ${s}`);
      assert.equal(readFileSync(join(dir, `${n}.clock`), 'utf8'), '+600.000\n');
    }
    assert.ok(Math.abs((await skewS(b, leader)) ?? 99) < 2, 'the leader keeps true time');
    // Timers run on monotonic clocks: the cluster still agrees on the same leader.
    assert.equal(await b.leader(5000), leader);

    // A follower's log lines written now carry its bumped clock (pino's `time`).
    const follower = followers[0] as string;
    await b.kill(follower);
    const killedAt = Date.now();
    await b.restart(follower);
    const times = readFileSync(b.logFiles().get(follower) as string, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { time: number }).time);
    assert.ok(times.some((t) => t - killedAt > 590_000), 'the restarted follower logs at +600 s (the offset survives a restart)');

    assert.deepEqual(await nemesis.invoke(op('stop-clock')), { type: 'info', value: followers });
    for (const n of followers) await eventually(`${n} back to true time`, async () => Math.abs((await skewS(b, n)) ?? 99) < 2, 5000);
  });

  it('a strobe flips a node between +30 s and true time until stopped', async () => {
    const b = backend as LocalBackend;
    const { nemesis } = nemesisPackage(parseNemesisConfig({ faults: ['clock'], clock: { strobePeriodMs: 50 } }), b, { seed: 2 });
    const done = await nemesis.invoke(op('start-clock', { kind: 'strobe', target: 'one', offsetS: 30 }));
    const node = Object.keys((done.value as { offsets: Record<string, number> }).offsets)[0] as string;
    const seen = new Set<string>();
    await eventually('both clock positions seen', async () => {
      const s = await skewS(b, node);
      if (s !== null && Math.abs(s - 30) < 2) seen.add('ahead');
      if (s !== null && Math.abs(s) < 2) seen.add('true');
      return seen.size === 2;
    }, 10_000, 7);
    await nemesis.healAll();
    for (let i = 0; i < 5; i++) assert.ok(Math.abs((await skewS(b, node)) ?? 99) < 2, 'healed: true time, no more flips');
  });

  it('without libfaketime the backend refuses before starting a node, naming the library and the package', async () => {
    const saved = process.env[LIBFAKETIME_ENV];
    process.env[LIBFAKETIME_ENV] = join(dir, 'no-such-libfaketime.so.1');
    try {
      await assert.rejects(LocalBackend.start({ nodes: 1, dir: join(dir, 'refused'), clockFaults: true }), /clock faults need libfaketime .*no-such-libfaketime\.so\.1.*apt-get install libfaketime/);
    } finally {
      if (saved === undefined) delete process.env[LIBFAKETIME_ENV];
      else process.env[LIBFAKETIME_ENV] = saved;
    }
  });
});
