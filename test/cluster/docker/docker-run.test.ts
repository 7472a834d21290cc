/**
 * `dsync run --backend docker` and `dsync clean` as a user runs them: without an engine, one line
 * saying what to start and exit 3 (no stack trace, no store folder); a run SIGINTed mid-fault
 * exits 3 and leaves no container or network with its label, and so does one killed outright
 * (its reaper sweeps); `dsync clean` removes what dead
 * harnesses left, names each thing, and keeps a live harness's run unless `--all`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { cleanCommand } from '../../../harness/clean-command.js';
import { DIR_LABEL, OWNER_LABEL, RUN_LABEL } from '../../../cluster/docker/engine.js';
import { ensureNodeImage, IMAGE_NODE } from '../../../cluster/docker/image.js';
import { ownerOf } from '../../../cluster/docker/owner.js';
import { dsyncBin, repoRoot } from '../../support/paths.js';
import { engineOrSkip, labelledUnder } from '../../support/docker.js';
import { LONG_FAULT_EXPERIMENT } from '../../support/experiments.js';


const historyHas = (file: string, pred: (e: { f?: string; type?: string }) => boolean): boolean =>
  existsSync(file) &&
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .some((l) => pred(JSON.parse(l) as { f?: string; type?: string }));

async function within(ms: number, what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cluster/docker: dsync run --backend docker and dsync clean', function () {
  this.timeout(180_000);
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-docker-run-'));
    writeFileSync(join(root, 'long-fault.yaml'), LONG_FAULT_EXPERIMENT);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('without an engine', () => {
    const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    for (const args of [['run', 'long-fault.yaml', '--backend', 'docker', '--store', 'store'], ['suite', 'long-fault.yaml', '--backend', 'docker', '--store', 'store'], ['clean']]) {
      it(`dsync ${args[0]} says in one line what to start and how, and exits 3 (no stack trace, no store folder)`, () => {
        const r = spawnSync(process.execPath, [dsyncBin, ...args], { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
        assert.equal(r.status, 3, r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0] ?? '', new RegExp(`^dsync ${args[0]}: (backend docker: )?no Docker engine answers at unix:///nonexistent/docker\\.sock \\(ENOENT\\): start one — .*dockerd .*DOCKER_HOST`));
        assert.doesNotMatch(r.stderr + r.stdout, /^\s+at /m);
        assert.equal(existsSync(join(root, 'store')), false);
      });
    }
  });

  describe('on an engine', () => {
    let docker: Docker;
    before(async function () {
      docker = await engineOrSkip(this);
    });

    it('a run SIGINTed mid-fault exits 3 and leaves no container or network with its label', async () => {
      const store = join(root, 'store-sigint');
      const child = spawn(process.execPath, [dsyncBin, 'run', join(root, 'long-fault.yaml'), '--backend', 'docker', '--store', store, '--quiet'], {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const history = join(store, 'long-fault', 'latest', 'history.jsonl');
      try {
        await within(90_000, `the partition starts (output so far: ${out})`, () => historyHas(history, (e) => e.f === 'start-partition' && e.type === 'info'));
        const during = await labelledUnder(docker, store);
        assert.equal(during.filter((l) => l.startsWith('container')).length, 3, `the run's containers, during the fault: ${during.join(', ')}`);
        assert.equal(during.filter((l) => l.startsWith('network')).length, 1);
        process.kill(-(child.pid as number), 'SIGINT');
        assert.equal(await exited, 3, `exit code (output: ${out})`);
      } finally {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      assert.match(out, /long-fault: INCOMPLETE — .* interrupted by SIGINT/);
      assert.ok(historyHas(history, (e) => e.f === 'heal'), 'healed before teardown');
      assert.deepEqual(await labelledUnder(docker, store), [], 'no container or network of the run is left');
    });

    it('a harness killed outright (SIGKILL, no teardown) mid-fault: its reaper removes the run\'s containers and network', async () => {
      const store = join(root, 'store-sigkill');
      const child = spawn(process.execPath, [dsyncBin, 'run', join(root, 'long-fault.yaml'), '--backend', 'docker', '--store', store, '--quiet'], { cwd: repoRoot, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const history = join(store, 'long-fault', 'latest', 'history.jsonl');
      try {
        await within(90_000, 'the partition starts', () => historyHas(history, (e) => e.f === 'start-partition' && e.type === 'info'));
        assert.equal((await labelledUnder(docker, store)).length, 4, 'three containers and a network during the fault');
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      await within(20_000, 'the reaper removes the run', async () => (await labelledUnder(docker, store)).length === 0);
      assert.equal(historyHas(history, (e) => e.f === 'heal'), false, 'the harness itself never healed nor tore down');
    });

    it('dsync clean removes what dead harnesses left (running containers too) and names each; a live harness\'s run is kept unless --all', async () => {
      const image = (await ensureNodeImage(docker)).tag;
      const dead = spawnSync(process.execPath, ['-e', 'process.pid'], {}).pid as number;
      const made: string[] = [];
      const leave = async (run: string, owner: string): Promise<void> => {
        const labels = { [RUN_LABEL]: run, [DIR_LABEL]: join(root, `clean-${run}`), [OWNER_LABEL]: owner };
        const net = await docker.createNetwork({ Name: `dsync-${run}`, Labels: labels });
        made.push(net.id);
        const c = await docker.createContainer({ name: `dsync-${run}-n1`, Image: image, Cmd: [IMAGE_NODE, '-e', 'setInterval(() => {}, 1000)'], Labels: labels, HostConfig: { NetworkMode: `dsync-${run}` } });
        await c.start();
      };
      await leave('cleantest-dead', ownerOf(dead).replace(/:\d*$/, ':1'));
      await leave('cleantest-live', ownerOf());
      try {
        const lines: string[] = [];
        const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
        assert.equal(await cleanCommand(io), 0, lines.join('\n'));
        assert.ok(lines.includes(`removed container dsync-cleantest-dead-n1 (run cleantest-dead, ${join(root, 'clean-cleantest-dead')})`), lines.join('\n'));
        assert.ok(lines.includes(`removed network dsync-cleantest-dead (run cleantest-dead, ${join(root, 'clean-cleantest-dead')})`), lines.join('\n'));
        assert.ok(lines.some((l) => /^kept run cleantest-live: its harness is still running/.test(l)), lines.join('\n'));
        assert.deepEqual(await labelledUnder(docker, join(root, 'clean-cleantest-dead')), []);
        assert.equal((await labelledUnder(docker, join(root, 'clean-cleantest-live'))).length, 2);
        lines.length = 0;
        assert.equal(await cleanCommand(io, { all: true }), 0, lines.join('\n'));
        assert.ok(lines.some((l) => l.startsWith('removed container dsync-cleantest-live-n1')), lines.join('\n'));
        assert.match(lines.at(-1) ?? '', /^dsync clean: removed 1 container, 1 network, 0 volumes$/);
        lines.length = 0;
        assert.equal(await cleanCommand(io), 0);
        assert.deepEqual(lines, ['dsync clean: nothing to remove (no container, network or volume with the dsync.run label)']);
      } finally {
        for (const run of ['cleantest-dead', 'cleantest-live']) {
          await docker.getContainer(`dsync-${run}-n1`).remove({ force: true }).catch(() => undefined);
          await docker.getNetwork(`dsync-${run}`).remove().catch(() => undefined);
        }
      }
    });
  });
});
