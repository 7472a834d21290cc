/**
 * The docker backend's parts that need no engine: what it refuses when an experiment is loaded
 * (latency, clocks — each named by its field; the host redis-server is relayed, so accepted), the iptables-restore text
 * of a chain, an engine on another machine refused, the owner label, and the image's inputs (ldd's libraries, a hash that changes with
 * any byte of them).
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import type Docker from 'dockerode';
import { checkLocalEngine } from '../../../cluster/docker/engine.js';
import { join } from 'node:path';
import { parseExperiment } from '../../../harness/experiment.js';
import { dockerCannot } from '../../../cluster/docker/docker-support.js';
import { chainRestore, linkRulesUnavailable } from '../../../cluster/docker/link-rules.js';
import { imageFiles, imageHash, IMAGE_NODE, sharedLibraries } from '../../../cluster/docker/image.js';
import { ownerAlive, ownerOf } from '../../../cluster/docker/owner.js';

const experiment = (nemesis: string, extra = ''): string => `backend: docker
nodes: 3
${extra}workload:
  name: lock
nemesis:
${nemesis}`;

describe('cluster/docker: what needs no engine', () => {
  describe('experiments the docker backend cannot run are refused when loaded, naming the field', () => {
    const cases: [string, string, RegExp][] = [
      ['latency', '  faults: [partition, latency]\n', /\bx\.yaml:6: nemesis\.faults\.1: the docker backend cannot delay links: that takes tc netem.*run latency on the local backend$/m],
      ['a package that delays links (figure-8)', '  faults: [kill]\n  packages: [figure-8]\n', /\bx\.yaml:7: nemesis\.packages\.0: the docker backend cannot delay links/],
      ['clock faults', '  faults: [clock]\n', /\bx\.yaml:6: nemesis\.faults\.0: the docker backend cannot move clocks \(libfaketime runs on the local backend only\)/],
    ];
    for (const [what, nemesis, message] of cases) {
      it(what, () => assert.throws(() => parseExperiment(experiment(nemesis), 'x.yaml'), message));
    }
    it('the cache\'s host redis-server is accepted (relayed to the containers on the network\'s gateway)', () => {
      const text = `backend: docker\nnodes: 3\ncluster:\n  cache: { redis: true }\nworkload:\n  name: cache\nnemesis:\n  faults: [kill]\n`;
      assert.equal(parseExperiment(text, 'x.yaml').cluster.cache.redis, true);
    });
    it('kill, pause and (as root, with iptables) partitions are accepted', () => {
      assert.equal(parseExperiment(experiment('  faults: [kill, pause]\n'), 'x.yaml').backend, 'docker');
      if (linkRulesUnavailable() === null) assert.equal(parseExperiment(experiment('  faults: [partition]\n  packages: [lagging-leader]\n'), 'x.yaml').nemesis.faults[0], 'partition');
      else assert.throws(() => parseExperiment(experiment('  faults: [partition]\n'), 'x.yaml'), /partitions on the docker backend are iptables rules, but/);
    });
    it('the same experiment on the local backend is accepted', () => {
      assert.equal(parseExperiment(experiment('  faults: [partition, latency]\n').replace('backend: docker', 'backend: local'), 'x.yaml').backend, 'local');
    });
    it('dockerCannot answers for each need', () => {
      assert.equal(dockerCannot({ kind: 'link-fault', fault: 'ok' }), null);
      assert.match(dockerCannot({ kind: 'link-fault', fault: 'reset' }) ?? '', /cannot reset connections/);
    });
  });

  it('a chain is replaced whole in one iptables-restore transaction: our chain flushed and refilled, the jump added only on install', () => {
    const rules = [{ source: '10.213.7.11' }, { source: '10.213.7.13' }];
    assert.equal(
      chainRestore(rules, 7000, true),
      '*filter\n:DSYNC - [0:0]\n-I INPUT 1 -j DSYNC\n-A DSYNC -s 10.213.7.11/32 -p tcp --dport 7000 -j DROP\n-A DSYNC -s 10.213.7.13/32 -p tcp --dport 7000 -j DROP\nCOMMIT\n',
    );
    assert.equal(chainRestore([], 7000, false), '*filter\n:DSYNC - [0:0]\nCOMMIT\n');
  });

  it('an engine on another machine is refused, saying why (bind mounts, 127.0.0.1 ports, nsenter)', async () => {
    const remote = { info: async () => ({ Name: 'build-box-7' }) } as unknown as Docker;
    await assert.rejects(checkLocalEngine(remote), /runs on "build-box-7", not on this machine .*needs an engine on this machine/);
    const here = { info: async () => ({ Name: hostname() }) } as unknown as Docker;
    await checkLocalEngine(here);
  });

  it('an owner label names a live process only while it runs (same pid, same start time)', () => {
    assert.equal(ownerAlive(ownerOf()), true);
    assert.equal(ownerAlive(ownerOf().replace(/:\d+$/, ':1')), false, 'another start time: a reused pid');
    assert.equal(ownerAlive(`another-host:${process.pid}:`), false);
    assert.equal(ownerAlive(undefined), false);
  });

  describe('the image\'s inputs', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'dsync-image-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('Node.js and the libraries ldd lists for it, the dynamic loader among them', async () => {
      const libs = await sharedLibraries(process.execPath);
      assert.ok(libs.some((l) => /\/libc\.so\.6$/.test(l)), libs.join(', '));
      assert.ok(libs.some((l) => /\/ld-linux[^/]*\.so/.test(l)), libs.join(', '));
      const files = await imageFiles();
      assert.deepEqual(files[0], { path: IMAGE_NODE, source: process.execPath, mode: 0o755 });
      assert.equal(files.length, libs.length + 1);
    });

    it('the hash changes with any byte of Node.js and only then', async () => {
      const node = join(dir, 'node');
      copyFileSync(process.execPath, node);
      const files = await imageFiles(node);
      const a = await imageHash(files);
      assert.match(a, /^[0-9a-f]{16}$/);
      assert.equal(await imageHash(files), a);
      assert.equal(await imageHash(await imageFiles()), a, 'the same bytes elsewhere: the same image');
      appendFileSync(node, '\n');
      assert.notEqual(await imageHash(files), a);
    });
  });
});
