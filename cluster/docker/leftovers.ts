/**
 * Finding and removing what runs left on the engine, by label: every container, network and
 * volume of one run (`dsync.run=<id>`, teardown's sweep), or of every run (`dsync clean`).
 */
import type Docker from 'dockerode';
import { DIR_LABEL, engineMessage, engineStatus, OWNER_LABEL, RUN_LABEL } from './engine.js';
import { ownerAlive } from './owner.js';

/** One thing removed (or left): its kind, name, run id and the folder of the run's nodes. */
export interface Leftover {
  readonly kind: 'container' | 'network' | 'volume';
  readonly name: string;
  readonly run: string;
  readonly dir: string;
  /** Whether the harness that made it is alive on this machine (its run is in progress). */
  readonly live: boolean;
}

/** What a sweep did. */
export interface Sweep {
  readonly removed: readonly Leftover[];
  /** Things it could not remove, with the engine's reason. */
  readonly failed: readonly (Leftover & { readonly error: string })[];
}

const labelsOf = (labels: Record<string, string> | undefined): { run: string; dir: string; live: boolean } => ({
  run: labels?.[RUN_LABEL] ?? '?',
  dir: labels?.[DIR_LABEL] ?? '?',
  live: ownerAlive(labels?.[OWNER_LABEL]),
});

/** Everything on the engine that carries `filter` (`dsync.run` for every run, `dsync.run=<id>` for one). */
export async function findLeftovers(docker: Docker, filter: string): Promise<Leftover[]> {
  const filters = { label: [filter] };
  const [containers, networks, volumes] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters }), docker.listVolumes({ filters })]);
  return [
    ...containers.map((c): Leftover => ({ kind: 'container', name: (c.Names[0] ?? c.Id).replace(/^\//, ''), ...labelsOf(c.Labels) })),
    ...networks.map((n): Leftover => ({ kind: 'network', name: n.Name, ...labelsOf(n.Labels) })),
    ...(volumes.Volumes ?? []).map((v): Leftover => ({ kind: 'volume', name: v.Name, ...labelsOf(v.Labels) })),
  ];
}

/** Removes one leftover (containers by force: running or paused ones are killed); gone already counts as removed. */
async function remove(docker: Docker, l: Leftover): Promise<void> {
  try {
    if (l.kind === 'container') await docker.getContainer(l.name).remove({ force: true, v: true });
    else if (l.kind === 'network') await docker.getNetwork(l.name).remove();
    else await docker.getVolume(l.name).remove();
  } catch (e) {
    if (engineStatus(e) !== 404) throw e;
  }
}

/** Removes `leftovers`: containers first (a network in use cannot go), then networks and volumes. */
export async function removeLeftovers(docker: Docker, leftovers: readonly Leftover[]): Promise<Sweep> {
  const removed: Leftover[] = [];
  const failed: (Leftover & { error: string })[] = [];
  for (const kinds of [['container'], ['network', 'volume']] as const) {
    const batch = leftovers.filter((l) => (kinds as readonly string[]).includes(l.kind));
    const results = await Promise.allSettled(batch.map((l) => remove(docker, l)));
    results.forEach((r, i) => {
      const l = batch[i] as Leftover;
      if (r.status === 'fulfilled') removed.push(l);
      else failed.push({ ...l, error: engineMessage(r.reason) });
    });
  }
  return { removed, failed };
}

/** Removes whatever the engine still lists with run `runId`'s label. */
export async function removeRun(docker: Docker, runId: string): Promise<{ removed: string[]; left: string[] }> {
  const sweep = await removeLeftovers(docker, await findLeftovers(docker, `${RUN_LABEL}=${runId}`));
  return { removed: sweep.removed.map((l) => `${l.kind} ${l.name}`), left: sweep.failed.map((l) => `${l.kind} ${l.name} (${l.error})`) };
}
