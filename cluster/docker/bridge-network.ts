/**
 * A run's private bridge network: a /24 of its own in 10.213.0.0/16 (one the engine's networks
 * and this machine's routes do not use), fixed node addresses in it (`.11` for n1, `.12` for n2,
 * ...), no masquerading (the containers reach each other and this machine, nothing beyond), and
 * the run's labels.
 */
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { engineMessage } from './engine.js';

/** The /16 the run networks are carved from. */
const BASE = [10, 213] as const;
/** The host part of the first node's address. */
const FIRST_HOST = 11;

/** A network made for a run. */
export interface RunNetwork {
  readonly id: string;
  readonly name: string;
  /** e.g. `10.213.7.0/24`. */
  readonly subnet: string;
  /** The bridge's own address on it (this machine, as the containers see it). */
  readonly gateway: string;
  /** The address of the `i`-th node (0-based). */
  address(i: number): string;
}

const subnetOf = (k: number): string => `${BASE[0]}.${BASE[1]}.${k}.0/24`;

/** The address range of a CIDR as unsigned 32-bit numbers, or null if it is not IPv4 CIDR. */
function range(cidr: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return null;
  const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const bits = Number(m[5]);
  const size = 2 ** (32 - bits);
  const lo = addr - (addr % size);
  return [lo, lo + size - 1];
}

/** The third octets k of the 10.213.k.0/24 that any of `cidrs` overlaps. */
function octetsUsed(cidrs: readonly string[]): Set<number> {
  const taken = cidrs.flatMap((c) => { const r = range(c); return r ? [r] : []; });
  const used = new Set<number>();
  for (let k = 0; k < 256; k++) {
    const [lo, hi] = range(subnetOf(k)) as [number, number];
    if (taken.some(([a, b]) => a <= hi && lo <= b)) used.add(k);
  }
  return used;
}

/** This machine's IPv4 routes as CIDRs (from /proc/net/route; none where it cannot be read). */
function hostRoutes(): string[] {
  try {
    return readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length > 7 && f[1] !== '00000000')
      .map((f) => {
        const le = (hex: string): string => [0, 1, 2, 3].map((i) => parseInt(hex.slice(6 - 2 * i, 8 - 2 * i), 16)).join('.');
        const mask = parseInt(f[7] as string, 16);
        const bits = mask.toString(2).split('').filter((x) => x === '1').length;
        return `${le(f[1] as string)}/${bits}`;
      });
  } catch {
    return [];
  }
}

/** The subnets of the engine's networks. */
async function engineSubnets(docker: Docker): Promise<string[]> {
  const nets = await docker.listNetworks();
  return nets.flatMap((n) => (n.IPAM?.Config ?? []).flatMap((c) => (typeof c.Subnet === 'string' ? [c.Subnet] : [])));
}

/**
 * Creates the network `name` with `labels` on a /24 nobody uses. Two runs racing for the same
 * /24 are told apart by the engine ("overlaps"): the loser takes the next free one.
 * @throws when every /24 of 10.213.0.0/16 is taken, naming the engine's complaint
 */
export async function createRunNetwork(docker: Docker, name: string, labels: Readonly<Record<string, string>>): Promise<RunNetwork> {
  const used = octetsUsed([...(await engineSubnets(docker)), ...hostRoutes()]);
  const start = 1 + Math.floor(Math.random() * 250);
  let last = '';
  for (let i = 0; i < 254; i++) {
    const k = 1 + ((start - 1 + i) % 254);
    if (used.has(k)) continue;
    const subnet = subnetOf(k);
    const gateway = `${BASE[0]}.${BASE[1]}.${k}.1`;
    try {
      const net = await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...labels },
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
        Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      });
      return { id: net.id, name, subnet, gateway, address: (n) => `${BASE[0]}.${BASE[1]}.${k}.${FIRST_HOST + n}` };
    } catch (e) {
      last = engineMessage(e);
      if (!/overlap|in use|already/i.test(last)) throw new Error(`creating the run's network ${name} on ${subnet} failed: ${last}`);
    }
  }
  throw new Error(`no free /24 left in ${BASE.join('.')}.0.0/16 for the run's network${last ? ` (last: ${last})` : ''}: remove old networks with \`dsync clean\``);
}
