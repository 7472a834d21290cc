/** CPU time of server processes from /proc (the benchmarks' CPU per 1,000 ops). */
import assert from 'node:assert/strict';
import { CpuWindow, cpuSeconds, perThousand, statCpuSeconds } from '../../../harness/bench/process-cpu.js';

describe('harness/bench: process CPU', () => {
  it('reads user + system ticks (100 a second) after the command name, spaces and parentheses in it included', () => {
    // Fields 1–15 of a real line shape: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const line = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 125 0 0 20 0 11 0';
    assert.equal(statCpuSeconds(line), 3.75);
    assert.throws(() => statCpuSeconds('garbage'), /not a \/proc/);
  });

  it('sums the CPU of live processes; undefined for none, or for one that is gone', async () => {
    const own = await cpuSeconds([process.pid]);
    assert.ok(own !== undefined && own > 0, `own CPU ${own}`);
    assert.equal(await cpuSeconds([]), undefined);
    assert.equal(await cpuSeconds([process.pid, 2 ** 22 + 12345]), undefined);
  });

  it('measures a window: what the process burned between open and close', async () => {
    const w = new CpuWindow(() => [process.pid]);
    await w.open();
    const until = performance.now() + 120;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const s = await w.close();
    assert.ok(x > 0);
    assert.ok(s !== undefined && s >= 0.05 && s < 5, `window CPU ${s}`);
    assert.equal(perThousand(2, 4000), 0.5);
    assert.equal(perThousand(undefined, 10), undefined);
    assert.equal(perThousand(1, 0), undefined);
  });
});
