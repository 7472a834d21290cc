/**
 * The docker backend on a real engine (skipped, with the reason, when none answers at
 * $DOCKER_HOST; failed instead with DSYNC_REQUIRE_DOCKER=1): the node image is imported once and
 * reused by its hash; 3 containers elect a leader and serve a lock; partitions are real — during
 * a one-way cut a TCP connect from the cut sender to its peer times out while the reverse
 * direction connects, the DROP rule counts packets, and after the heal the rules are gone; kill
 * and restart, pause and resume go through the engine; a failed start and every teardown leave
 * no container or network with the run's label.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DockerBackend } from '../../../cluster/docker/docker-backend.js';
import { ensureNodeImage, IMAGE_REPO } from '../../../cluster/docker/image.js';
import { dropCounts } from '../../../cluster/docker/link-rules.js';
import { NODE_PORT } from '../../../cluster/docker/node-container.js';
import { linkRulesUnavailable } from '../../../cluster/docker/link-rules.js';
import { callJson } from '../../support/http-json.js';
import { connectFrom, engineOrSkip, labelledUnder } from '../../support/docker.js';

const host = (url: string): string => url.replace(/^http:\/\//, '');

describe('cluster/docker: the docker backend on a real engine', function () {
  this.timeout(180_000);
  let docker: Docker;
  let root: string;

  before(async function () {
    docker = await engineOrSkip(this);
    root = mkdtempSync(join(tmpdir(), 'dsync-docker-'));
  });
  after(async () => {
    if (root === undefined) return;
    assert.deepEqual(await labelledUnder(docker, root), [], 'nothing of these tests is left on the engine');
    rmSync(root, { recursive: true, force: true });
  });

  describe('the node image', () => {
    const extra: string[] = [];
    after(async () => {
      for (const tag of extra) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    });

    it('is imported from this machine\'s Node.js once, then reused by its hash; another Node.js binary makes another image', async () => {
      const first = await ensureNodeImage(docker);
      assert.match(first.tag, new RegExp(`^${IMAGE_REPO}:[0-9a-f]{16}$`));
      const again = await ensureNodeImage(docker);
      assert.deepEqual([again.tag, again.built], [first.tag, false]);
      const info = await docker.getImage(first.tag).inspect();
      assert.equal(info.Config.Labels?.['dsync.image'], first.tag.split(':')[1]);
      // A "new" Node.js: the same binary with one more byte (an ELF file ignores trailing bytes).
      const node = join(root, 'node');
      copyFileSync(process.execPath, node);
      appendFileSync(node, '\n');
      const other = await ensureNodeImage(docker, node);
      extra.push(other.tag);
      assert.notEqual(other.tag, first.tag);
      assert.equal(other.built, true);
      assert.equal((await ensureNodeImage(docker, node)).built, false);
    });
  });

  describe('a 3-node cluster', () => {
    let b: DockerBackend;
    const lines: string[] = [];
    before(async () => {
      b = await DockerBackend.start({ nodes: 3, dir: join(root, 'cluster'), nodeArgs: [], log: (msg) => lines.push(msg) });
    });
    after(async () => {
      if (!b) return;
      const run = b.runId;
      await b.teardown();
      await b.teardown();
      const left = await docker.listContainers({ all: true, filters: { label: [`dsync.run=${run}`] } });
      const nets = await docker.listNetworks({ filters: { label: [`dsync.run=${run}`] } });
      assert.deepEqual([left.length, nets.length], [0, 0], 'no container or network with the run label after teardown');
    });

    it('elects a leader and serves a lock through the published ports; every container and the network carry the run label', async () => {
      const leader = await b.leader(20_000);
      assert.ok(leader !== null && b.nodes.includes(leader), `leader: ${leader}`);
      const follower = b.nodes.find((n) => n !== leader) as string;
      const g = await callJson(host(b.endpoint(follower)), 'POST', '/lock/acquire', { name: 'k', client: 'c1', ttlMs: 120_000 });
      assert.equal(g.status, 200, JSON.stringify(g.body));
      const busy = await callJson(host(b.endpoint(leader)), 'POST', '/lock/acquire', { name: 'k', client: 'c2' });
      assert.equal(busy.status, 409);
      assert.equal((await callJson(host(b.endpoint(leader)), 'POST', '/lock/release', { name: 'k', client: 'c1', token: g.body['token'], secret: g.body['secret'] })).status, 200);
      const containers = await docker.listContainers({ filters: { label: [`dsync.run=${b.runId}`] } });
      assert.deepEqual(containers.map((c) => c.Names[0]).sort(), b.nodes.map((n) => `/dsync-${b.runId}-${n}`));
      assert.ok(containers.every((c) => c.Ports.some((p) => p.IP === '127.0.0.1' && p.PrivatePort === NODE_PORT)), 'ports published on 127.0.0.1 only');
      assert.equal((await docker.listNetworks({ filters: { label: [`dsync.run=${b.runId}`] } })).length, 1);
      assert.ok(lines.some((l) => /containers healthy/.test(l)), lines.join('\n'));
    });

    it('a one-way cut is real: the sender\'s connects time out, the reverse direction connects, the DROP rule counts packets; the heal removes the rules', async function () {
      const why = linkRulesUnavailable();
      if (why !== null) {
        console.log(`      skipped: ${why}`);
        this.skip();
      }
      const [from, to] = ['n1', 'n2'];
      const fromC = b.containerId(from);
      const toC = b.containerId(to);
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT), 'connected', 'before the cut');
      await b.setLinkFaults([{ from, to }], { kind: 'blackhole' });
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT, 1500), 'timeout', `${from} → ${to} is cut`);
      assert.equal(await connectFrom(docker, toC, b.address(from), NODE_PORT), 'connected', `${to} → ${from} still works (one-way)`);
      const counts = await dropCounts(b.pid(to));
      assert.equal(counts.length, 1, JSON.stringify(counts));
      assert.equal(counts[0]?.source, b.address(from));
      assert.ok((counts[0]?.packets ?? 0) > 0, `the DROP rule dropped packets: ${JSON.stringify(counts)}`);
      assert.deepEqual(await dropCounts(b.pid(from)), [], 'no rule in the sender');
      await b.healNetwork();
      for (const n of b.nodes) assert.deepEqual(await dropCounts(b.pid(n)), [], `no rule left in ${n} after the heal`);
      assert.equal(await connectFrom(docker, fromC, b.address(to), NODE_PORT), 'connected', 'after the heal');
      assert.notEqual(await b.leader(20_000), null, 'a leader again after the heal');
    });

    it('a cut into a node that is killed and restarted is applied again in its new namespace', async function () {
      if (linkRulesUnavailable() !== null) this.skip();
      await b.setLinkFaults([{ from: 'n3', to: 'n1' }], { kind: 'blackhole' });
      const before = b.pid('n1');
      await b.kill('n1');
      await b.restart('n1');
      assert.notEqual(b.pid('n1'), before);
      const counts = await dropCounts(b.pid('n1'));
      assert.deepEqual(counts.map((c) => c.source), [b.address('n3')]);
      await b.healNetwork();
      assert.deepEqual(await dropCounts(b.pid('n1')), []);
    });

    it('kill is SIGKILL through the engine; restart starts the same container from its data dir and the node rejoins', async () => {
      const leader = (await b.leader(20_000)) as string;
      assert.ok(leader);
      await b.kill(leader);
      assert.equal(b.isRunning(leader), false);
      const state = (await docker.getContainer(b.containerId(leader)).inspect()).State;
      assert.deepEqual([state.Running, state.ExitCode], [false, 137], 'killed by SIGKILL');
      const next = await b.leader(20_000);
      assert.ok(next !== null && next !== leader, `a new leader: ${next}`);
      const g = await callJson(host(b.endpoint(next)), 'POST', '/lock/acquire', { name: 'during-kill', client: 'c3', ttlMs: 120_000 });
      assert.equal(g.status, 200);
      await b.restart(leader);
      assert.equal(b.isRunning(leader), true);
      const views = await b.leaderViews();
      assert.ok(views.some((v) => v.node === leader), 'the restarted node answers /status');
      // It recovered the lock table from its data dir and the log it was sent.
      for (let i = 0; ; i++) {
        const r = await callJson(host(b.endpoint(leader)), 'GET', '/lock/during-kill');
        if (r.status === 200 && JSON.stringify(r.body).includes('c3')) break;
        if (i > 100) assert.fail(`the restarted node does not see the lock: ${JSON.stringify(r.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    it('pause freezes the container (the engine says Paused; /status goes silent) and resume thaws it', async () => {
      const node = 'n3';
      await b.pause(node);
      assert.equal(b.isPaused(node), true);
      assert.equal((await docker.getContainer(b.containerId(node)).inspect()).State.Paused, true);
      await assert.rejects(fetch(`${b.endpoint(node)}/status`, { signal: AbortSignal.timeout(1000) }));
      assert.ok(!(await b.leaderViews()).some((v) => v.node === node), 'a paused node is not asked');
      await b.resume(node);
      assert.equal((await docker.getContainer(b.containerId(node)).inspect()).State.Paused, false);
      assert.equal((await fetch(`${b.endpoint(node)}/status`, { signal: AbortSignal.timeout(5000) })).status, 200);
    });

    it('kill of a paused node kills it (the engine thaws it only to let it die)', async () => {
      await b.pause('n2');
      await b.kill('n2');
      assert.deepEqual([b.isRunning('n2'), b.isPaused('n2')], [false, false]);
      await b.restart('n2');
      assert.equal(b.isRunning('n2'), true);
    });
  });

  it('a start that fails (a node that will not run) removes what it made and says why', async () => {
    const dir = join(root, 'bad');
    await assert.rejects(DockerBackend.start({ nodes: 3, dir, nodeArgs: ['--tick-ms', '0'] }), /n\d exited before it was healthy: .*see .*bad\/n\d\.log/);
    assert.match(readFileSync(join(dir, 'n1.log'), 'utf8'), /--tick-ms must be an integer of at least 1/, 'the node\'s complaint is in its log');
    assert.deepEqual(await labelledUnder(docker, dir), []);
  });
});
