/**
 * The trivial server of the load generator's scale check (`dsync bench loadgen`): a child
 * process that answers every HTTP/1.1 request on a keep-alive connection with the same small
 * 200 JSON reply, parsing nothing but the blank line that ends each request's head (requests
 * carry no body). It does as little per request as a server can, so that the generator, not the
 * server, is what the check measures.
 */
import { startScriptServer } from './server-process.js';

/** The server, given to `node -e` with its port; it exits when its parent is gone. */
const SERVER = `
const net = require('node:net');
const body = '{"ok":true}';
const reply = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: ' + body.length + '\\r\\nkeep-alive: timeout=65\\r\\n\\r\\n' + body);
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let tail = '';
  socket.on('data', (chunk) => {
    const text = tail + chunk.toString('latin1');
    let n = 0;
    let at = 0;
    for (let end = text.indexOf('\\r\\n\\r\\n'); end >= 0; end = text.indexOf('\\r\\n\\r\\n', at)) { n++; at = end + 4; }
    tail = text.slice(at);
    if (n > 0) socket.write(n === 1 ? reply : Buffer.concat(Array(n).fill(reply)));
  });
  socket.on('error', () => {});
});
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
`;

/** A running trivial server. */
export interface TrivialServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts the trivial server on a free port of 127.0.0.1 and waits until it answers. */
export async function startTrivialServer(): Promise<TrivialServer> {
  const { address, process: server } = await startScriptServer('trivial server', SERVER, [], '/');
  return { address, pid: server.pid, stop: () => server.kill() };
}
