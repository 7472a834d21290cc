import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { LinkProxy } from '../../../cluster/local/link-proxy.js';
import { eventually } from '../../support/eventually.js';

/** An echo server on a free port. */
async function echoServer(): Promise<{ server: Server; address: string; conns: Set<Socket> }> {
  const conns = new Set<Socket>();
  const server = createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, address: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, conns };
}

/** A client that collects what it receives. */
async function client(address: string): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const [host, port] = address.split(':') as [string, string];
  const socket = connect(Number(port), host);
  let text = '';
  let closed = false;
  socket.on('data', (b) => (text += b.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => text, closed: () => closed };
}

describe('cluster/local/link-proxy', () => {
  let echo: { server: Server; address: string; conns: Set<Socket> };
  let proxy: LinkProxy;
  const sockets: Socket[] = [];
  /** A client, closed after the test. */
  const open = async (address: string): ReturnType<typeof client> => {
    const c = await client(address);
    sockets.push(c.socket);
    return c;
  };
  beforeEach(async () => {
    echo = await echoServer();
    proxy = await LinkProxy.start({ target: echo.address });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await proxy.stop();
    for (const s of echo.conns) s.destroy();
    await new Promise((r) => echo.server.close(r));
  });

  it('passes bytes both ways when the link is ok', async () => {
    const c = await open(proxy.address);
    c.socket.write('hello');
    await eventually('echoed', () => c.received() === 'hello' || undefined, 2000);
  });

  it('blackhole: holds bytes without errors, and delivers them in order on heal', async () => {
    const c = await open(proxy.address);
    c.socket.write('a');
    await eventually('a echoed', () => c.received() === 'a' || undefined, 2000);
    proxy.setFault({ kind: 'blackhole' });
    c.socket.write('b');
    c.socket.write('c');
    // A new connection during the partition is accepted but gets nothing through either.
    const late = await open(proxy.address);
    late.socket.write('x');
    const probe = await client(echo.address); // the target itself is alive: its echo is prompt
    sockets.push(probe.socket);
    probe.socket.write('p');
    await eventually('direct echo', () => probe.received() === 'p' || undefined, 2000);
    assert.equal(c.received(), 'a', 'nothing crossed the cut link');
    assert.equal(late.received(), '');
    assert.equal(c.closed() || late.closed(), false, 'no connection was closed');
    proxy.setFault({ kind: 'ok' });
    await eventually('held bytes delivered in order after heal', () => (c.received() === 'abc' && late.received() === 'x') || undefined, 2000);
  });

  it('reset: closes every connection and refuses new ones until healed', async () => {
    const c = await open(proxy.address);
    proxy.setFault({ kind: 'reset' });
    await eventually('closed', () => c.closed() || undefined, 2000);
    const again = await open(proxy.address);
    await eventually('a new connection is closed on arrival', () => again.closed() || undefined, 2000);
    proxy.setFault({ kind: 'ok' });
    const healed = await open(proxy.address);
    healed.socket.write('ok');
    await eventually('healed link echoes', () => healed.received() === 'ok' || undefined, 2000);
  });

  it('latency: delays each direction by at least ms, keeping order with jitter', async () => {
    const c = await open(proxy.address);
    proxy.setFault({ kind: 'latency', ms: 60, jitterMs: 40 });
    const started = Date.now();
    for (const ch of 'abcdefghij') c.socket.write(ch);
    await eventually('all echoed', () => c.received().length === 10 || undefined, 3000);
    assert.equal(c.received(), 'abcdefghij', 'in order despite jitter');
    assert.ok(Date.now() - started >= 120, `both directions delayed (took ${Date.now() - started} ms)`);
    assert.throws(() => proxy.setFault({ kind: 'latency', ms: -1 }), RangeError);
  });
});
