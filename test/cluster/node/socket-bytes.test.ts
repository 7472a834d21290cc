import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { countSocketBytes, socketBytes } from '../../../cluster/node/socket-bytes.js';

/** Sends `out` from a client to an echo server and waits until it came back. */
async function echo(out: Buffer, closeAfter: boolean): Promise<void> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client: Socket = connect(port, '127.0.0.1');
  let back = 0;
  await new Promise<void>((resolve, reject) => {
    client.on('error', reject);
    client.on('data', (d: Buffer) => {
      back += d.length;
      if (back >= out.length) resolve();
    });
    client.write(out);
  });
  if (closeAfter) await new Promise<void>((r) => client.end(r)).then(() => new Promise((r) => client.once('close', r)));
  else client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('cluster/node/socket-bytes: TCP bytes of the process', () => {
  it('counts what client and server sockets read and wrote', async () => {
    countSocketBytes();
    countSocketBytes(); // a second call must not count twice
    const before = socketBytes();
    await echo(Buffer.alloc(100_000, 1), true);
    const after = socketBytes();
    // Client writes 100 kB and reads it back; the server reads and writes the same: 200 kB each way.
    assert.equal(after.read - before.read, 200_000);
    assert.equal(after.written - before.written, 200_000);
  });
});
