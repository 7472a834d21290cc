import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { eventually } from '../../support/eventually.js';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../../cluster/node/data-dir-lock.js';

describe('cluster/node/data-dir-lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-dirlock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder while the first holds it, and frees it on release', async () => {
    const release = await lockDataDir(dir);
    assert.match(readFileSync(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
    await assert.rejects(lockDataDir(dir), (e: unknown) => e instanceof DataDirInUseError && e.pid === process.pid && /never share a data dir/.test(e.message));
    await release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const again = await lockDataDir(dir);
    await again();
  });

  it('takes over a lock left by a process that is gone (kill -9)', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    assert.ok(deadPid > 0);
    writeFileSync(join(dir, LOCK_FILE), `${deadPid}\n`);
    const release = await lockDataDir(dir);
    assert.match(readFileSync(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
    await release();
  });

  it('takes over a lock whose pid is alive but names another process (pid reused, e.g. pid 1 in a restarted container)', async () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.pid} some-other-boot:12345\n`);
    const release = await lockDataDir(dir);
    assert.match(readFileSync(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
    await release();
  });

  it('refuses a lock held by another live process', async () => {
    // pid 1 (init) is always alive; kill(1, 0) gives EPERM or success, both mean "alive".
    writeFileSync(join(dir, LOCK_FILE), '1\n');
    await assert.rejects(lockDataDir(dir), DataDirInUseError);
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), '1\n', 'the other holder keeps its lock');
  });

  it('takes over at once from an owner killed with -9 that is still a zombie (not reaped yet), again and again', async function () {
    this.timeout(30_000);
    if (process.platform !== 'linux') this.skip();
    const module = new URL('../../../cluster/node/data-dir-lock.js', import.meta.url).href;
    const locker = `const { lockDataDir } = await import(${JSON.stringify(module)}); await lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`;
    for (let round = 0; round < 3; round++) {
      // The locker's parent is a shell that execs sleep, which never reaps it: killed, it stays a zombie.
      let parent: ChildProcess | undefined;
      let pid = 0;
      try {
        parent = spawn('sh', ['-c', '"$0" --input-type=module -e "$1" & echo "pid $!"; exec sleep 60', process.execPath, locker], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        parent.stdout?.on('data', (c: Buffer) => (out += c.toString()));
        await eventually('the locker holds the data dir', async () => /locked/.test(out), 10_000);
        pid = Number(/pid (\d+)/.exec(out)?.[1]);
        assert.ok(pid > 0, out);
        process.kill(pid, 'SIGKILL');
        await eventually('the killed locker is a zombie', async () => /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 5000);
        const release = await lockDataDir(dir);
        assert.match(readFileSync(join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `));
        await release();
      } finally {
        parent?.kill('SIGKILL');
        if (pid > 0) spawnSync('kill', ['-9', String(pid)]);
      }
    }
  });
});
