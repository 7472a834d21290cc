/** Nodes started in the test's own process (startNode), on free ports of 127.0.0.1, insecure. */
import { join } from 'node:path';
import { pino } from 'pino';
import { startNode, type RunningNode } from '../../cluster/node/node.js';
import { freePorts } from '../../cluster/local/node-process.js';

/** Starts `count` members `n1…` with 10 ms ticks, each with its data dir under `dir`. */
export async function startInProcessNodes(count: number, dir: string): Promise<RunningNode[]> {
  const ports = await freePorts(count);
  const peers = new Map(ports.map((p, i) => [`n${i + 1}`, `127.0.0.1:${p}`]));
  const nodes: RunningNode[] = [];
  for (const [id, listen] of peers) nodes.push(await startNode({ id, listen, peers, dataDir: join(dir, id), log: pino({ level: 'silent' }), tickMs: 10, insecure: true }));
  return nodes;
}
