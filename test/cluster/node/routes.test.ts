/** The node's route matcher: exact paths, `{name}` templates and one-segment prefixes, every method of a path. */
import assert from 'node:assert/strict';
import { routeMatcher, forwardedRoutes } from '../../../cluster/node/routes.js';
import type { Route } from '../../../cluster/node/service.js';

const handler: Route['handler'] = async () => undefined;
const route = (method: Route['method'], path: string, name: string, serve?: Route['serve']): Route => ({ method, path, name, handler, ...(serve ? { serve } : {}) });

describe('cluster/node: routes', () => {
  const routes = [
    route('GET', '/status', 'status'),
    route('POST', '/queue/{queue}/enqueue', 'enqueue', async (param) => ({ status: 200, body: { param } })),
    route('GET', '/queue/{queue}/placement', 'placement'),
    route('POST', '/lock/acquire', 'acquire'),
    route('GET', '/lock/', 'view', async (param) => ({ status: 200, body: { param } })),
    route('DELETE', '/lock/', 'view-delete'),
  ];
  const match = routeMatcher(routes);
  const names = (path: string): { names: string[]; param: string | undefined } => {
    const m = match(path);
    return { names: m.routes.map((r) => r.name), param: m.param };
  };

  it('matches exact paths first, then templates, then one-segment prefixes (every method of the path)', () => {
    assert.deepEqual(names('/status'), { names: ['status'], param: undefined });
    assert.deepEqual(names('/lock/acquire'), { names: ['acquire'], param: undefined });
    assert.deepEqual(names('/queue/a%2Fb/enqueue'), { names: ['enqueue'], param: 'a%2Fb' });
    assert.deepEqual(names('/queue/q1/placement'), { names: ['placement'], param: 'q1' });
    assert.deepEqual(names('/lock/db'), { names: ['view', 'view-delete'], param: 'db' });
  });

  it('matches nothing for an empty template segment, a deeper path under a prefix, or an unknown path; a bare prefix captures nothing', () => {
    for (const path of ['/queue//enqueue', '/queue/q/enqueue/x', '/lock/a/b', '/nope', '/', '']) assert.deepEqual(names(path), { names: [], param: undefined }, path);
    // The prefix itself is its routes' path, with nothing captured (their handlers refuse it, 400).
    assert.deepEqual(names('/lock/'), { names: ['view', 'view-delete'], param: undefined });
  });

  it('finds the forwarded-request server of a method and path, only for routes that have one', async () => {
    const find = forwardedRoutes(routes);
    assert.deepEqual(await find('POST', '/queue/q9/enqueue')?.serve('q9', Buffer.alloc(0), undefined, 'n2'), { status: 200, body: { param: 'q9' } });
    assert.equal(find('GET', '/lock/db')?.param, 'db');
    assert.equal(find('DELETE', '/lock/db'), undefined);
    assert.equal(find('GET', '/queue/q9/placement'), undefined);
    assert.equal(find('GET', '/queue/q9/enqueue'), undefined);
  });
});
