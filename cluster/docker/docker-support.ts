/**
 * What the docker backend cannot do, said when an experiment is loaded (before any container
 * starts): link latency (no tc netem), clock faults (libfaketime runs on the local backend only),
 * and partitions
 * where this process cannot apply iptables rules. Light on purpose: dockerode is not loaded here.
 */
import type { BackendNeed } from '../backends.js';
import { linkRulesUnavailable } from './link-rules.js';

/** Why the docker backend cannot meet `need` (one sentence), or null when it can. */
export function dockerCannot(need: BackendNeed): string | null {
  switch (need.kind) {
    case 'link-fault':
      switch (need.fault) {
        case 'ok':
          return null;
        case 'blackhole': {
          const why = linkRulesUnavailable();
          return why === null ? null : `partitions on the docker backend are iptables rules, but ${why}`;
        }
        case 'latency':
          return 'the docker backend cannot delay links: that takes tc netem, which it does not drive (kernels built without CONFIG_NET_SCH_NETEM, like this project\'s CI machines, have none): run latency on the local backend';
        case 'reset':
          return 'the docker backend cannot reset connections (its link faults are iptables DROP rules): run resets on the local backend';
        default: {
          const never: never = need.fault;
          return `unknown link fault ${String(never)}`;
        }
      }
    case 'clock-faults':
      return 'the docker backend cannot move clocks (libfaketime runs on the local backend only): run clock faults on the local backend';
    case 'host-redis':
      // The run's redis-server on this machine's loopback is relayed on the network's gateway (host-relay.ts).
      return null;
    default: {
      const never: never = need;
      return `unknown need ${JSON.stringify(never)}`;
    }
  }
}
