/**
 * A TCP proxy for one directed link between two nodes of a local cluster (connections that
 * node A opens to node B), so that faults need neither root nor Docker:
 *
 * - `ok`: bytes flow both ways;
 * - `blackhole`: nothing flows — connections stay open but no byte is read or forwarded, and new
 *   connections are accepted but held unconnected, like packets dropped by iptables: senders see
 *   timeouts, not errors (unlike iptables, a new connection's handshake itself succeeds); on heal
 *   the held bytes flow, as TCP retransmission would deliver them;
 * - `reset`: every connection is closed at once and new ones are closed on arrival (a refusing
 *   peer);
 * - `latency`: each chunk is delayed by `ms` (+ up to `jitterMs`), in order.
 *
 * `tc netem` is not available here, so latency lives in the proxy too.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

import type { LinkFault } from '../backend.js';

export type { LinkFault };

interface Pair {
  readonly client: Socket;
  /** Connected to the target once the link lets it. */
  upstream: Socket | null;
  /** Bytes from the client read before the upstream connected. */
  early: Buffer[];
  /** When the last delayed chunk each way goes out: later chunks never overtake it. */
  dueUp: number;
  dueDown: number;
}

/** A running proxy for one link. */
export class LinkProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #fault: LinkFault = { kind: 'ok' };
  readonly #random: () => number;
  /** Where the proxy listens: give this address to the node that dials the link. */
  readonly address: string;

  private constructor(server: Server, address: string, target: { host: string; port: number }, random: () => number) {
    this.#server = server;
    this.address = address;
    this.#target = target;
    this.#random = random;
  }

  /** Starts a proxy in front of `target` (`host:port`), listening on `host` (127.0.0.1 unless given; a free port unless given). */
  static async start(o: { target: string; host?: string; port?: number; random?: () => number }): Promise<LinkProxy> {
    const host = o.host ?? '127.0.0.1';
    const m = /^(.+):(\d+)$/.exec(o.target);
    if (!m) throw new RangeError(`link proxy: target must be host:port, got "${o.target}"`);
    const target = { host: m[1] as string, port: Number(m[2]) };
    let proxy: LinkProxy | undefined;
    const server = createServer({ pauseOnConnect: true }, (socket) => {
      if (proxy) proxy.#accept(socket);
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    proxy = new LinkProxy(server, `${host}:${port}`, target, o.random ?? Math.random);
    return proxy;
  }

  get fault(): LinkFault {
    return this.#fault;
  }

  /** Open client connections (for tests and status lines). */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Changes the fault; takes effect at once on every connection. */
  setFault(fault: LinkFault): void {
    if (fault.kind === 'latency' && !(fault.ms >= 0 && (fault.jitterMs ?? 0) >= 0)) throw new RangeError('link proxy: latency ms and jitterMs must be ≥ 0');
    this.#fault = fault;
    for (const p of [...this.#pairs]) this.#apply(p);
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    for (const p of [...this.#pairs]) this.#close(p);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const pair: Pair = { client, upstream: null, early: [], dueUp: 0, dueDown: 0 };
    this.#pairs.add(pair);
    client.on('error', () => this.#close(pair));
    client.on('close', () => this.#close(pair));
    client.on('data', (chunk: Buffer) => this.#forward(pair, chunk, true));
    this.#apply(pair);
  }

  /** Brings one connection in line with the current fault. */
  #apply(p: Pair): void {
    const f = this.#fault;
    if (f.kind === 'reset') {
      this.#close(p);
      return;
    }
    if (f.kind === 'blackhole') {
      p.client.pause();
      p.upstream?.pause();
      return;
    }
    if (!p.upstream) this.#dial(p);
    p.client.resume();
    p.upstream?.resume();
  }

  #dial(p: Pair): void {
    const up = connect(this.#target.port, this.#target.host);
    p.upstream = up;
    up.setNoDelay(true);
    p.client.setNoDelay(true);
    up.on('error', () => this.#close(p));
    up.on('close', () => this.#close(p));
    up.on('data', (chunk: Buffer) => this.#forward(p, chunk, false));
    up.on('connect', () => {
      for (const b of p.early.splice(0)) up.write(b);
    });
  }

  #forward(p: Pair, chunk: Buffer, fromClient: boolean): void {
    const send = (): void => {
      if (!this.#pairs.has(p)) return;
      const to = fromClient ? p.upstream : p.client;
      if (to === null) return;
      if (fromClient && to.connecting) p.early.push(chunk);
      else to.write(chunk);
    };
    const f = this.#fault;
    if (f.kind !== 'latency') {
      send();
      return;
    }
    const now = Date.now();
    const due = Math.max(now + f.ms + (f.jitterMs ?? 0) * this.#random(), fromClient ? p.dueUp : p.dueDown);
    if (fromClient) p.dueUp = due;
    else p.dueDown = due;
    setTimeout(send, due - now);
  }

  #close(p: Pair): void {
    if (!this.#pairs.delete(p)) return;
    p.client.destroy();
    p.upstream?.destroy();
  }
}
