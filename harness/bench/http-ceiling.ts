/**
 * The ceiling of the cache's hits on this machine: a trivial `node:http` server in a child
 * process that answers every GET at once with the body of a hit (the same JSON shape and value
 * size), read by the very client the dsync cells use. A hit cannot be faster than this: it is
 * one HTTP exchange with one Node.js process plus a map lookup.
 */
import type { CacheClient, CacheTarget } from './cache-target.js';
import { httpCacheClient, httpPool } from './dsync-cache-target.js';
import { startScriptServer } from './server-process.js';

/**
 * The server, given to `node -e` with its port and body: it answers any request with the body,
 * keeps connections alive as long as a dsync node does (65 s), and exits when its parent is gone.
 */
const SERVER = `
const http = require('node:http');
const [port, text] = process.argv.slice(1);
const body = Buffer.from(text);
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(Number(port), '127.0.0.1', () => console.log('listening on ' + port));
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
`;

/** The body of every answer: a hit's, with a `valueBytes`-character value. */
export const ceilingBody = (valueBytes: number): string => JSON.stringify({ value: '.'.repeat(valueBytes), state: 'S', hit: true });

/** Starts the trivial server on a free port of 127.0.0.1 and waits until it answers. */
export async function startHttpCeiling(opts: { valueBytes: number; log?: (line: string) => void }): Promise<CacheTarget> {
  const label = 'node:http trivial server';
  const { address, process: server } = await startScriptServer(label, SERVER, [ceilingBody(opts.valueBytes)], '/x', opts.log);
  opts.log?.(`${label}: listening on ${address}`);
  const pool = httpPool(address);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await pool.destroy().catch(() => undefined);
      await server.kill();
    })());
  return {
    label,
    nodes: 1,
    client: (): Promise<CacheClient> => Promise.resolve(httpCacheClient(pool, '/x/')),
    pids: () => (server.pid === undefined ? [] : [server.pid]),
    stop,
  };
}
