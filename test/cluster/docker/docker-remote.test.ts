/**
 * The docker backend's remote mode, forced (`DSYNC_DOCKER_MODE=remote`) against the engine at
 * $DOCKER_HOST on this machine — a remote engine cannot be had here, and the remote mode uses
 * nothing of this machine but the engine's API and the published ports (skipped, with the
 * reason, when no engine answers; failed instead with DSYNC_REQUIRE_DOCKER=1): the project is in
 * the image and the data dirs are volumes (no bind mount); 3 containers serve a lock through
 * ports published on the engine's host; a one-way cut is real with the rules applied inside the
 * containers through the engine's exec API; kill and restart of every node keeps the data (the
 * volumes); teardown, `dsync clean` and a killed harness's reaper leave no container, network or
 * volume with the run's label.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DockerBackend } from '../../../cluster/docker/docker-backend.js';
import { DIR_LABEL, RUN_LABEL } from '../../../cluster/docker/engine.js';
import { DOCKER_MODE_ENV } from '../../../cluster/docker/engine-mode.js';
import { dropCounts } from '../../../cluster/docker/link-rules.js';
import { NODE_PORT, NodeContainer } from '../../../cluster/docker/node-container.js';
import { IMAGE_DSYNC_BIN, IMAGE_IPTABLES, remoteImageRecipe } from '../../../cluster/docker/remote-image.js';
import { ensureImage } from '../../../cluster/docker/image.js';
import { createRunNetwork } from '../../../cluster/docker/bridge-network.js';
import { removeRun } from '../../../cluster/docker/leftovers.js';
import { freePorts } from '../../../cluster/local/node-process.js';
import { cleanCommand } from '../../../harness/clean-command.js';
import { callJson } from '../../support/http-json.js';
import { connectFrom, engineOrSkip, execIn } from '../../support/docker.js';
import { dsyncBin, repoRoot } from '../../support/paths.js';
import { LONG_FAULT_EXPERIMENT } from '../../support/experiments.js';

const host = (url: string): string => url.replace(/^http:\/\//, '');

/** Everything the engine lists with run `run`'s label, volumes included. */
async function labelled(docker: Docker, run: string): Promise<string[]> {
  const filters = { label: [`${RUN_LABEL}=${run}`] };
  const [containers, networks, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters }), docker.listVolumes({ filters })]);
  return [...containers.map((c) => `container ${c.Names[0] ?? c.Id}`), ...networks.map((n) => `network ${n.Name}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

/** Everything the engine lists whose `dsync.dir` label starts with `dir`, volumes included. */
async function labelledUnderDir(docker: Docker, dir: string): Promise<string[]> {
  const filters = { label: [DIR_LABEL] };
  const [containers, networks, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters }), docker.listVolumes({ filters })]);
  const under = (labels: Record<string, string> | undefined): boolean => (labels?.[DIR_LABEL] ?? '').startsWith(dir);
  return [
    ...containers.filter((c) => under(c.Labels)).map((c) => `container ${c.Names[0] ?? c.Id}`),
    ...networks.filter((n) => under(n.Labels)).map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).filter((v) => under(v.Labels)).map((v) => `volume ${v.Name}`),
  ];
}

async function within(ms: number, what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('cluster/docker: the remote mode (forced, on this machine\'s engine)', function () {
  this.timeout(180_000);
  let docker: Docker;
  let root: string;
  let saved: string | undefined;

  before(async function () {
    docker = await engineOrSkip(this);
    root = mkdtempSync(join(tmpdir(), 'dsync-docker-remote-'));
    saved = process.env[DOCKER_MODE_ENV];
    process.env[DOCKER_MODE_ENV] = 'remote';
  });
  after(async () => {
    if (saved === undefined) delete process.env[DOCKER_MODE_ENV];
    else process.env[DOCKER_MODE_ENV] = saved;
    if (root === undefined) return;
    assert.deepEqual(await labelledUnderDir(docker, root), [], 'nothing of these tests is left on the engine');
    rmSync(root, { recursive: true, force: true });
  });

  describe('a 3-node cluster', () => {
    let b: DockerBackend;
    let dir: string;
    const lines: string[] = [];
    before(async () => {
      dir = join(root, 'cluster');
      b = await DockerBackend.start({ nodes: 3, dir, nodeArgs: [], log: (msg) => lines.push(msg) });
    });
    after(async () => {
      if (!b) return;
      await b.teardown();
      assert.deepEqual(await labelled(docker, b.runId), [], 'no container, network or volume with the run label after teardown');
    });

    it('runs the project from the image with its data dirs in labelled volumes (no bind mount), and serves a lock through the engine host\'s ports', async () => {
      assert.equal(b.mode.mode, 'remote');
      assert.ok(lines.some((l) => /^docker: remote mode \(DSYNC_DOCKER_MODE=remote\)/.test(l)), lines.join('\n'));
      for (const n of b.nodes) {
        assert.match(b.endpoint(n), /^http:\/\/127\.0\.0\.1:\d+$/);
        const info = await docker.getContainer(b.containerId(n)).inspect();
        assert.equal(info.Config.Cmd[1], IMAGE_DSYNC_BIN, 'the project is in the image');
        assert.deepEqual(info.HostConfig.Binds ?? [], [], 'no bind mount');
        assert.ok((info.HostConfig.CapAdd ?? []).includes('NET_ADMIN'));
        const mounts = info.Mounts.map((m) => [m.Type, m.Name, m.Destination]);
        assert.deepEqual(mounts, [['volume', `dsync-${b.runId}-${n}`, '/data']]);
        assert.equal(existsSync(join(dir, n)), false, 'no data dir on this machine');
      }
      assert.deepEqual((await labelled(docker, b.runId)).filter((l) => l.startsWith('volume')).sort(), b.nodes.map((n) => `volume dsync-${b.runId}-${n}`));
      const leader = await b.leader(20_000);
      assert.ok(leader !== null && b.nodes.includes(leader), `leader: ${leader}`);
      const follower = b.nodes.find((n) => n !== leader) as string;
      const g = await callJson(host(b.endpoint(follower)), 'POST', '/lock/acquire', { name: 'k', client: 'c1', ttlMs: 120_000 });
      assert.equal(g.status, 200, JSON.stringify(g.body));
      assert.equal((await callJson(host(b.endpoint(leader)), 'POST', '/lock/acquire', { name: 'k', client: 'c2' })).status, 409);
      assert.equal((await callJson(host(b.endpoint(leader)), 'POST', '/lock/release', { name: 'k', client: 'c1', token: g.body['token'], secret: g.body['secret'] })).status, 200);
      // The node's output reaches the run's folder on this machine through the engine's attach.
      assert.match(readFileSync(join(dir, `${leader}.log`), 'utf8'), /\S/, 'the leader\'s log has lines');
    });

    it('a one-way cut is real, its rules applied inside the containers through exec: the sender\'s connects time out, the reverse connects, the DROP rule counts packets; the heal removes the rules', async () => {
      const [from, to] = ['n1', 'n2'];
      const fromC = b.containerId(from);
      const toC = b.containerId(to);
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT), 'connected', 'before the cut');
      await b.setLinkFaults([{ from, to }], { kind: 'blackhole' });
      // The rule as iptables in the receiving container lists it (run there through exec).
      const listed = await execIn(docker, toC, [IMAGE_IPTABLES, '-S', 'DSYNC']);
      assert.equal(listed.code, 0, listed.out);
      assert.match(listed.out, new RegExp(`-A DSYNC -s ${b.address(from).replace(/\./g, '\\.')}/32 -p tcp -m tcp --dport ${NODE_PORT} -j DROP`));
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT, 1500), 'timeout', `${from} → ${to} is cut`);
      assert.equal(await connectFrom(docker, toC, b.address(from), NODE_PORT), 'connected', `${to} → ${from} still works (one-way)`);
      const counts = await dropCounts(b.ruleShell(to));
      assert.equal(counts.length, 1, JSON.stringify(counts));
      assert.equal(counts[0]?.source, b.address(from));
      assert.ok((counts[0]?.packets ?? 0) > 0, `the DROP rule dropped packets: ${JSON.stringify(counts)}`);
      assert.deepEqual(await dropCounts(b.ruleShell(from)), [], 'no rule in the sender');
      const byNode = await b.dropCounts();
      assert.equal(byNode[to]?.[0]?.from, from);
      await b.healNetwork();
      for (const n of b.nodes) assert.deepEqual(await dropCounts(b.ruleShell(n)), [], `no rule left in ${n} after the heal`);
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT), 'connected', 'after the heal');
      assert.notEqual(await b.leader(20_000), null, 'a leader again after the heal');
    });

    it('a cut into a node that is killed and restarted is applied again in its new namespace', async () => {
      await b.setLinkFaults([{ from: 'n3', to: 'n1' }], { kind: 'blackhole' });
      await b.kill('n1');
      await b.restart('n1');
      assert.deepEqual((await dropCounts(b.ruleShell('n1'))).map((c) => c.source), [b.address('n3')]);
      await b.healNetwork();
      assert.deepEqual(await dropCounts(b.ruleShell('n1')), []);
    });

    it('kill and restart of every node keeps the data (the volumes): the term goes on and the lock is still held', async () => {
      const leader = (await b.leader(20_000)) as string;
      assert.ok(leader);
      const g = await callJson(host(b.endpoint(leader)), 'POST', '/lock/acquire', { name: 'kept', client: 'c3', ttlMs: 170_000 });
      assert.equal(g.status, 200, JSON.stringify(g.body));
      const before = Math.max(...(await b.leaderViews()).map((v) => v.term));
      const endpoints = b.nodes.map((n) => b.endpoint(n));
      await Promise.all(b.nodes.map((n) => b.kill(n)));
      for (const n of b.nodes) assert.equal((await docker.getContainer(b.containerId(n)).inspect()).State.ExitCode, 137);
      await Promise.all(b.nodes.map((n) => b.restart(n)));
      assert.deepEqual(b.nodes.map((n) => b.endpoint(n)), endpoints, 'the same ports after the restart');
      const next = await b.leader(30_000);
      assert.ok(next !== null, 'a leader after every node restarted');
      const after = Math.max(...(await b.leaderViews()).map((v) => v.term));
      assert.ok(after > before, `the term went on from the volumes (${before} → ${after}), not from scratch`);
      for (let i = 0; ; i++) {
        const r = await callJson(host(b.endpoint(next)), 'GET', '/lock/kept');
        if (r.status === 200 && JSON.stringify(r.body).includes('c3')) break;
        if (i > 100) assert.fail(`the lock is gone after the restart: ${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });

  it('a port taken on the engine\'s host at the first start: the container is made again on another port', async () => {
    const server = createServer();
    const taken = await new Promise<number>((resolve) => server.listen(0, '0.0.0.0', () => resolve((server.address() as { port: number }).port)));
    const [other] = await freePorts(1);
    const run = 'porttest';
    const labels = { [RUN_LABEL]: run, [DIR_LABEL]: join(root, 'port') };
    const image = await ensureImage(docker, await remoteImageRecipe(repoRoot));
    const net = await createRunNetwork(docker, `dsync-${run}`, labels);
    let c: NodeContainer | undefined;
    try {
      c = await NodeContainer.create(docker, {
        id: 'n1', name: `dsync-${run}-n1`, image: image.tag, network: net.name, address: net.address(0), hostPort: taken, clientHost: '127.0.0.1',
        peers: `n1=${net.address(0)}:${NODE_PORT}`, logFile: join(root, 'port-n1.log'), otherPort: () => other as number, extraArgs: [], env: {}, labels,
        placement: { kind: 'volume', volume: `dsync-${run}-n1`, dataDir: '/data', secret: 'a'.repeat(32), dsyncBin: IMAGE_DSYNC_BIN },
      });
      await c.start();
      assert.equal(c.hostPort, other);
      await c.waitHealthy(30_000);
      assert.equal(c.url, `http://127.0.0.1:${other}`);
    } finally {
      await c?.remove();
      await removeRun(docker, run);
      server.close();
    }
    assert.deepEqual(await labelled(docker, run), []);
  });

  it('dsync clean removes a remote run\'s containers, network and volumes (kept while its harness lives, unless --all)', async () => {
    const b = await DockerBackend.start({ nodes: 2, dir: join(root, 'clean'), nodeArgs: [] });
    try {
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
      assert.equal(await cleanCommand(io), 0, lines.join('\n'));
      assert.ok(lines.includes(`kept run ${b.runId}: its harness is still running on this machine (--all removes it too)`), lines.join('\n'));
      assert.equal((await labelled(docker, b.runId)).length, 5, 'two containers, a network and two volumes');
      lines.length = 0;
      assert.equal(await cleanCommand(io, { all: true }), 0, lines.join('\n'));
      for (const n of ['n1', 'n2']) assert.ok(lines.includes(`removed volume dsync-${b.runId}-${n} (run ${b.runId}, ${join(root, 'clean')})`), lines.join('\n'));
      assert.deepEqual(await labelled(docker, b.runId), []);
    } finally {
      await b.teardown();
    }
  });

  it('a harness killed outright mid-fault: its reaper removes the run\'s containers, network and volumes', async () => {
    writeFileSync(join(root, 'long-fault.yaml'), LONG_FAULT_EXPERIMENT);
    const store = join(root, 'store-sigkill');
    const child = spawn(process.execPath, [dsyncBin, 'run', join(root, 'long-fault.yaml'), '--backend', 'docker', '--store', store, '--quiet'], { cwd: repoRoot, stdio: 'ignore', env: { ...process.env, [DOCKER_MODE_ENV]: 'remote' } });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const history = join(store, 'long-fault', 'latest', 'history.jsonl');
    try {
      await within(90_000, 'the partition starts', () => existsSync(history) && readFileSync(history, 'utf8').includes('"start-partition"'));
      const during = await labelledUnderDir(docker, store);
      assert.equal(during.length, 7, `three containers, a network and three volumes during the fault: ${during.join(', ')}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    await within(30_000, 'the reaper removes the run', async () => (await labelledUnderDir(docker, store)).length === 0);
  });
});
