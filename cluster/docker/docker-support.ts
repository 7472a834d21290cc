/**
 * What the docker backend cannot do, said when an experiment is loaded (before any container
 * starts): link latency (no tc netem), clock faults (libfaketime runs on the local backend only),
 * partitions where this process cannot apply iptables rules (local mode), and in the remote mode
 * the redis-server a run starts on this machine. Light on purpose: dockerode is not loaded here.
 */
import type { BackendNeed } from '../backends.js';
import { linkRulesUnavailable } from './link-rules.js';
import { dockerMode, DOCKER_MODE_ENV, type DockerModeName } from './engine-mode.js';

/** Why the remote mode cannot take the cache's Redis (the field is named by the caller). */
export const REMOTE_REDIS_REFUSAL =
  'the docker backend in remote mode cannot give its containers the redis-server this run starts on this machine\'s loopback (the relay on the run network\'s gateway works only with an engine here): ' +
  `run Redis as main memory on the local backend, or on docker with an engine on this machine (${DOCKER_MODE_ENV}=local)`;

/** The mode `$DOCKER_HOST` and `$DSYNC_DOCKER_MODE` select; local where they are malformed (preflight names the bad variable). */
function modeName(): DockerModeName {
  try {
    return dockerMode().mode;
  } catch {
    return 'local';
  }
}

/** Why the docker backend cannot meet `need` (one sentence), or null when it can. */
export function dockerCannot(need: BackendNeed): string | null {
  switch (need.kind) {
    case 'link-fault':
      switch (need.fault) {
        case 'ok':
          return null;
        case 'blackhole': {
          // The remote mode applies them inside the containers, through the engine.
          if (modeName() === 'remote') return null;
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
      return modeName() === 'remote' ? REMOTE_REDIS_REFUSAL : null;
    default: {
      const never: never = need;
      return `unknown need ${JSON.stringify(never)}`;
    }
  }
}
