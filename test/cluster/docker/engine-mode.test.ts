/**
 * How the docker backend's mode is chosen (no engine needed): local for a unix socket or an
 * address of this machine, remote for a tcp:// or ssh:// engine elsewhere, either forced with
 * DSYNC_DOCKER_MODE; the clients' host follows DOCKER_HOST; bad values are named. And what the
 * remote mode refuses when an experiment is loaded: the cache's Redis, naming the field.
 */
import assert from 'node:assert/strict';
import { dockerMode, engineHostOf, isThisMachine } from '../../../cluster/docker/engine-mode.js';
import { dockerCannot } from '../../../cluster/docker/docker-support.js';
import { parseExperiment } from '../../../harness/experiment.js';

const own = new Set(['localhost', '::1', 'box', '192.168.1.5']);
const mode = (env: NodeJS.ProcessEnv): [string, string, boolean] => {
  const m = dockerMode(env, own);
  return [m.mode, m.engineHost, m.engineIsLocal];
};

/** Runs `f` with `vars` set in process.env, restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>): void => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  set(vars);
  try {
    return f();
  } finally {
    set(saved);
  }
}

describe('cluster/docker: the mode (local or remote)', () => {
  const cases: [string, NodeJS.ProcessEnv, [string, string, boolean]][] = [
    ['DOCKER_HOST unset: the default socket, local', {}, ['local', '127.0.0.1', true]],
    ['a unix socket: local', { DOCKER_HOST: 'unix:///tmp/d/docker.sock' }, ['local', '127.0.0.1', true]],
    ['tcp on loopback: local', { DOCKER_HOST: 'tcp://127.0.0.1:2375' }, ['local', '127.0.0.1', true]],
    ['tcp naming this machine: local', { DOCKER_HOST: 'tcp://box:2376' }, ['local', '127.0.0.1', true]],
    ['tcp on an own address: local', { DOCKER_HOST: 'tcp://192.168.1.5:2376' }, ['local', '127.0.0.1', true]],
    ['tcp elsewhere: remote, clients go there', { DOCKER_HOST: 'tcp://10.0.0.7:2376' }, ['remote', '10.0.0.7', false]],
    ['ssh elsewhere: remote', { DOCKER_HOST: 'ssh://me@engine.example:22' }, ['remote', 'engine.example', false]],
    ['ssh to localhost: local', { DOCKER_HOST: 'ssh://me@localhost' }, ['local', '127.0.0.1', true]],
    ['forced remote on a unix socket: remote, clients on 127.0.0.1', { DOCKER_HOST: 'unix:///tmp/d/docker.sock', DSYNC_DOCKER_MODE: 'remote' }, ['remote', '127.0.0.1', true]],
    ['forced local on a remote engine: local (the preflight then refuses it)', { DOCKER_HOST: 'tcp://10.0.0.7:2376', DSYNC_DOCKER_MODE: 'local' }, ['local', '10.0.0.7', false]],
    ['auto is the default', { DOCKER_HOST: 'tcp://10.0.0.7:2376', DSYNC_DOCKER_MODE: 'auto' }, ['remote', '10.0.0.7', false]],
  ];
  for (const [what, env, want] of cases) it(what, () => assert.deepEqual(mode(env), want));

  it('says why, for the run log', () => {
    assert.match(dockerMode({ DOCKER_HOST: 'tcp://10.0.0.7:2376' }, own).why, /10\.0\.0\.7 is not this machine/);
    assert.match(dockerMode({ DSYNC_DOCKER_MODE: 'remote' }, own).why, /DSYNC_DOCKER_MODE=remote/);
  });

  it('names the bad variable', () => {
    assert.throws(() => dockerMode({ DSYNC_DOCKER_MODE: 'far' }, own), /^RangeError: DSYNC_DOCKER_MODE=far: expected local, remote or auto$/);
    assert.throws(() => dockerMode({ DOCKER_HOST: 'ftp://x' }, own), /DOCKER_HOST=ftp:\/\/x: not an address/);
  });

  it('knows this machine by loopback, name and own addresses', () => {
    assert.equal(engineHostOf('tcp://[::1]:2375'), '::1');
    assert.ok(isThisMachine('127.0.1.1', own));
    assert.ok(isThisMachine('BOX', own));
    assert.ok(!isThisMachine('10.0.0.7', own));
    assert.ok(isThisMachine('127.0.0.1'), 'with the real interfaces');
  });

  describe('what the remote mode refuses when an experiment is loaded', () => {
    const yaml = 'backend: docker\nnodes: 3\ncluster:\n  cache: { redis: true }\nworkload:\n  name: cache\nnemesis:\n  faults: [kill]\n';
    it('the cache\'s Redis, naming the field; the local mode takes it', () => {
      withEnv({ DSYNC_DOCKER_MODE: 'remote' }, () => {
        assert.match(dockerCannot({ kind: 'host-redis' }) ?? '', /remote mode cannot give its containers the redis-server/);
        assert.throws(() => parseExperiment(yaml, 'x.yaml'), /\bx\.yaml:4: cluster\.cache\.redis: the docker backend in remote mode cannot/);
      });
      withEnv({ DSYNC_DOCKER_MODE: 'local', DOCKER_HOST: undefined }, () => {
        assert.equal(dockerCannot({ kind: 'host-redis' }), null);
        assert.equal(parseExperiment(yaml, 'x.yaml').cluster.cache.redis, true);
      });
    });
    it('partitions need neither root nor nsenter here: they are applied through the engine', () => {
      withEnv({ DSYNC_DOCKER_MODE: 'remote' }, () => assert.equal(dockerCannot({ kind: 'link-fault', fault: 'blackhole' }), null));
    });
  });
});
