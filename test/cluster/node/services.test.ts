/**
 * The node's service seam: a node composes the services it is given. A tiny counter service
 * defined here (one factory, added to the list beside the lock service) gets its routes, its part
 * of /status, /metrics and /openapi.json, leadership news and a close — and the lock service keeps
 * working beside it. A list that cannot be composed (two services on the Raft log, two routes on
 * one path) is refused before the node listens, leaving its data dir free.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Counter } from 'prom-client';
import { startNode, type RunningNode } from '../../../cluster/node/node.js';
import { nodeServices } from '../../../cluster/node/services.js';
import { sendJson } from '../../../cluster/node/http-util.js';
import type { ServiceFactory } from '../../../cluster/node/service.js';
import { eventually } from '../../support/eventually.js';

/** A service counting its hits, recording what the node told it. */
function counterService(seen: { roles: string[]; closed: number; dataDir?: string }, o: { machine?: boolean; path?: string } = {}): ServiceFactory {
  return {
    name: 'counter',
    prepare() {
      return {
        ...(o.machine ? { machine: { apply: () => null, restore: () => undefined, snapshot: () => null } } : {}),
        start(ctx) {
          seen.dataDir = ctx.dataDir;
          let hits = 0;
          const metric = new Counter({ name: 'dsync_counter_hits_total', help: 'Hits of the test counter service', registers: [ctx.registry] });
          return {
            name: 'counter',
            routes: [
              {
                method: 'POST',
                path: o.path ?? '/counter/hit',
                name: 'counter-hit',
                handler: async (_req, res) => {
                  hits++;
                  metric.inc();
                  sendJson(res, 200, { hits, node: ctx.id });
                },
              },
            ],
            openapi: { paths: { '/counter/hit': { post: { summary: 'Count a hit' } } } },
            status: () => ({ hits }),
            onLeadership: (role) => void seen.roles.push(role),
            close: () => void seen.closed++,
          };
        },
      };
    },
  };
}

describe('cluster/node: services composed by the node', function () {
  this.timeout(20_000);
  const dirs: string[] = [];
  const dataDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'dsync-services-'));
    dirs.push(d);
    return d;
  };
  const options = (dir: string) => ({ id: 'n1', listen: '127.0.0.1:0', peers: new Map([['n1', '127.0.0.1:0']]), dataDir: dir, log: pino({ level: 'silent' }), tickMs: 10, insecure: true });
  let node: RunningNode | undefined;
  after(async () => {
    await node?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('serves an added service beside the lock service: routes, /status, /metrics, /openapi.json, leadership, close', async () => {
    const seen: { roles: string[]; closed: number; dataDir?: string } = { roles: [], closed: 0 };
    const dir = dataDir();
    node = await startNode({ ...options(dir), services: [...nodeServices(), counterService(seen)] });
    const base = `http://${node.address}`;
    await eventually('leader elected', async () => ((await (await fetch(`${base}/status`)).json()) as { role: string }).role === 'leader');
    assert.deepEqual(await (await fetch(`${base}/counter/hit`, { method: 'POST' })).json(), { hits: 1, node: 'n1' });
    assert.equal((await fetch(`${base}/counter/hit`)).status, 405, 'a route has its method');
    const grant = await fetch(`${base}/lock/acquire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', client: 'c' }) });
    assert.equal(grant.status, 200, 'the lock service still serves');
    const status = (await (await fetch(`${base}/status`)).json()) as { services: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(status.services), ['lock', 'queue', 'cache', 'counter']);
    assert.deepEqual(status.services['counter'], { hits: 1 });
    assert.equal(status.services['lock']?.['grants'], 1);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^dsync_counter_hits_total\{node="n1"\} 1$/m);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown>; info: { description: string } };
    assert.ok(doc.paths['/counter/hit'] && doc.paths['/lock/acquire'] && doc.paths['/status'], Object.keys(doc.paths).join(', '));
    assert.match(doc.info.description, /serving: lock, queue, cache, counter/);
    assert.ok(seen.roles.includes('leader'), `leadership news: ${seen.roles.join(', ')}`);
    assert.equal(seen.dataDir, dir);
    await node.stop();
    node = undefined;
    assert.equal(seen.closed, 1);
  });

  it('refuses two services on the Raft log, and two routes on one path, before listening', async () => {
    const dir = dataDir();
    const seen = { roles: [] as string[], closed: 0 };
    await assert.rejects(startNode({ ...options(dir), services: [...nodeServices(), counterService(seen, { machine: true })] }), /services lock and counter both replicate through the Raft log/);
    await assert.rejects(startNode({ ...options(dir), services: [...nodeServices(), counterService(seen, { path: '/lock/acquire' })] }), /two routes serve POST \/lock\/acquire: lock-acquire and counter-hit/);
    assert.equal(seen.closed, 1, 'the service started before the clash was found was closed again');
    // The data dir was released each time: a node opens it now.
    node = await startNode(options(dir));
    await node.stop();
    node = undefined;
  });
});
