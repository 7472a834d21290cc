/**
 * Servers of this machine that the nodes are pointed at on its loopback — the cache's
 * redis-server that a run starts (`--redis redis://127.0.0.1:<port>`) — are out of the
 * containers' reach: their 127.0.0.1 is their own. Each is relayed by a TCP proxy listening on the
 * run network's gateway (this machine's address on the bridge, which only the run's containers
 * reach), and the flag is rewritten to point there. Partitions do not touch the relay: the
 * nemesis cuts links between nodes, not a node's way to main memory.
 */
import { LinkProxy } from '../local/link-proxy.js';

/** The flags whose value is a URL of a server on this machine the nodes must reach. */
const URL_FLAGS = ['--redis'] as const;

const isLoopback = (host: string): boolean => host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';

/** Flags rewritten to reach this machine's loopback servers through relays on `gateway`, and the relays (stop them at teardown). */
export interface Relayed {
  readonly args: string[];
  readonly relays: LinkProxy[];
}

/**
 * Starts a relay on `gateway` for every `--redis` URL of `args` on this machine's loopback, and
 * returns the flags pointing there instead. Stops the relays it started if one fails.
 * @throws Error naming the flag when a relay cannot listen on the gateway
 */
export async function relayLoopbackServers(args: readonly string[], gateway: string): Promise<Relayed> {
  const out = [...args];
  const relays: LinkProxy[] = [];
  try {
    for (let i = 0; i < out.length - 1; i++) {
      if (!(URL_FLAGS as readonly string[]).includes(out[i] as string)) continue;
      let url: URL;
      try {
        url = new URL(out[i + 1] as string);
      } catch {
        continue; // the node refuses it, naming the flag
      }
      if (!isLoopback(url.hostname) || url.port === '') continue;
      const relay = await LinkProxy.start({ target: `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port}`, host: gateway }).catch((e: unknown) => {
        throw new Error(`docker backend: cannot relay ${out[i]} ${url.host} on the run network's gateway ${gateway}: ${(e as Error).message}`, { cause: e });
      });
      relays.push(relay);
      url.hostname = gateway;
      url.port = relay.address.slice(relay.address.lastIndexOf(':') + 1);
      out[i + 1] = url.toString();
    }
  } catch (e) {
    await Promise.allSettled(relays.map((r) => r.stop()));
    throw e;
  }
  return { args: out, relays };
}
