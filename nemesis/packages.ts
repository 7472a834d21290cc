/**
 * Nemesis packages: named fault combinations, each a short sequence of timed nemesis ops aimed at
 * one class of Raft bug. A package's steps are a pure function of a random source (seeded by the
 * schedule from the experiment's seed and the window number), so a run is reproducible.
 *
 * | package          | the bug it aims at                                              |
 * | ---------------- | --------------------------------------------------------------- |
 * | `figure-8`       | entries of an earlier term committed by counting replicas (Raft paper, Figure 8) |
 * | `lagging-leader` | votes granted without the log up-to-date check                  |
 * | `restart-all`    | term, vote or log not found on disk after every node restarts   |
 */
import type { NemesisF, NemesisFaultKind } from './config.js';

/** The package names, as written in `nemesis.packages`. */
export const PACKAGE_NAMES = ['figure-8', 'lagging-leader', 'restart-all'] as const;

/** A package's name. */
export type PackageName = (typeof PACKAGE_NAMES)[number];

/** One op of a package: `f` with `value`, `atS` seconds after the package's window starts. */
export interface PackageStep {
  readonly atS: number;
  readonly f: NemesisF;
  readonly value: string | null;
}

/** The fault kinds (backend powers) each package's ops use. */
export const PACKAGE_FAULTS: Readonly<Record<PackageName, readonly NemesisFaultKind[]>> = {
  'figure-8': ['latency', 'partition', 'kill', 'pause'],
  'lagging-leader': ['partition', 'pause'],
  'restart-all': ['kill'],
};

/** Steps from gaps: each entry waits `gap` seconds after the previous step. */
function sequence(steps: readonly (readonly [gapS: number, f: NemesisF, value: string | null])[]): PackageStep[] {
  let at = 0;
  return steps.map(([gap, f, value]) => {
    at += gap;
    return { atS: Math.round(at * 1000) / 1000, f, value };
  });
}

/**
 * The steps of package `name`, in time order, the first at 0; `random` picks the gaps within
 * fixed ranges. The last step ends the package's window (every fault it started is stopped).
 */
export function packageSteps(name: PackageName, random: () => number): PackageStep[] {
  const between = (lo: number, hi: number): number => lo + (hi - lo) * random();
  switch (name) {
    case 'figure-8':
      // Under link latency (the nemesis's `latency`), so that what a new leader sends takes a while
      // to land: the leader L and one more node (a minority) are cut off, and L appends entries of
      // its term T that only they hold. The majority elects M in a newer term V, and M is killed
      // the moment it is elected: its entries of term V, not yet landed, die with the links, so
      // only M holds them. The partition heals; only L's side can win an election (its logs end in
      // T, the others' before T), and the winner W, in term U > V, sends the others the entries of
      // term T before its own no-op of term U. W is paused midway and M restarted: M's last term V
      // beats the others' T, so M wins with their votes and overwrites the entries of term T. A
      // leader that committed those by counting replicas (before its no-op reached a majority)
      // has lost committed entries (Raft §5.4.2, Figure 8). Nodes run with small AppendEntries
      // batches and few of them in flight (`--max-append-entries`, `--max-inflight`) make "midway"
      // last longer.
      return sequence([
        [0, 'start-latency', null],
        [0, 'start-partition', 'leader-minority'],
        [0, 'start-kill', 'new-leader'],
        [between(1.2, 1.6), 'stop-partition', null],
        [between(2.0, 3.5), 'start-pause', 'majority-leader'],
        [0, 'stop-kill', null],
        [between(3.0, 4.0), 'stop-pause', null],
        [0, 'stop-latency', null],
      ]);
    case 'lagging-leader':
      // One node is cut off while the others commit. Then the leader is paused (it can no longer
      // bring the lagging node up to date) and the partition becomes a star around the lagging
      // node: the others hear only it, so it is the only node that can gather votes. Voters that
      // check whether its log is up to date refuse it and no leader is elected until the heal;
      // voters that do not elect it, and it overwrites what they hold.
      return sequence([
        [0, 'start-partition', 'isolate-one'],
        [between(1.5, 3), 'start-pause', 'majority-leader'],
        [between(0, 0.05), 'start-partition', 'star'],
        [between(1, 1.5), 'stop-partition', null],
        [between(0.1, 0.5), 'stop-pause', null],
      ]);
    case 'restart-all':
      // Every node killed at once and restarted: what they knew survives only on disk.
      return sequence([
        [0, 'start-kill', 'all'],
        [between(0.2, 1.0), 'stop-kill', null],
      ]);
    default: {
      const never: never = name;
      throw new RangeError(`unknown package ${String(never)}`);
    }
  }
}
