import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { relayLoopbackServers } from '../../../cluster/docker/host-relay.js';

describe('cluster/docker/host-relay', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('relays a --redis URL on the loopback through a proxy on the given address, and leaves other flags alone', async () => {
    server = createServer((s) => s.end('PONG'));
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // 127.0.0.2 stands in for the gateway: another address of this machine.
    const { args, relays } = await relayLoopbackServers(['--cache-lease-ms', '1000', '--redis', `redis://127.0.0.1:${port}/0`, '--log-level', 'warn'], '127.0.0.2');
    try {
      assert.equal(relays.length, 1);
      assert.deepEqual(args.filter((_, i) => i !== 3), ['--cache-lease-ms', '1000', '--redis', '--log-level', 'warn']);
      const url = new URL(args[3] as string);
      assert.equal(url.hostname, '127.0.0.2');
      assert.notEqual(url.port, String(port));
      assert.equal(url.pathname, '/0');
      const got = await new Promise<string>((resolve, reject) => {
        const c = connect(Number(url.port), '127.0.0.2');
        let text = '';
        c.on('data', (d) => (text += String(d)));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      assert.equal(got, 'PONG', 'bytes reach the loopback server through the relay');
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
  });

  it('starts nothing for a URL elsewhere or without --redis', async () => {
    const { args, relays } = await relayLoopbackServers(['--redis', 'redis://10.0.0.5:6379', '--peers', 'redis://127.0.0.1:1'], '127.0.0.2');
    assert.equal(relays.length, 0);
    assert.deepEqual(args, ['--redis', 'redis://10.0.0.5:6379', '--peers', 'redis://127.0.0.1:1']);
  });
});
