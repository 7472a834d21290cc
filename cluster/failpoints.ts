/**
 * Failpoints: safety bugs planted in the node on purpose, each behind a switch, so that the test
 * harness can show it finds them (etcd's gofail, in TypeScript). A TEST AID that breaks safety:
 * never enable one outside a test.
 *
 * The switches are read once, when this module loads, from the environment variable
 * `DSYNC_FAILPOINTS` (comma-separated names, e.g. `raft.commit-earlier-term,lock.stale-token`).
 * The harness's node processes inherit it, so `DSYNC_FAILPOINTS=... dsync run X.yaml` plants the
 * bugs in every node. An unknown name does not throw at import (every `dsync` command loads this
 * module, `dsync check` too); it is kept and thrown by {@link checkFailpoints}, which
 * `dsync node` and `startNode` call first, so a node with a misspelt failpoint refuses to start.
 *
 * At each planted bug the code tests `FP['<name>']`: one property load of an object whose shape
 * never changes, on a path that is off in production — as good as free.
 */

/** Every failpoint, with what it breaks (one line). */
export const FAILPOINTS = [
  ['raft.commit-earlier-term', 'the leader commits entries of earlier terms by counting replicas (Raft §5.4.2, Figure 8)'],
  ['raft.commit-without-quorum', 'the leader commits an entry as soon as it is on its own disk, without a quorum'],
  ['raft.apply-uncommitted', 'entries are applied as soon as they are on the disk, beyond the commit index'],
  ['raft.vote-ignores-log', 'votes and pre-votes are granted without the log up-to-date check (Raft §5.4.1)'],
  ['raft.skip-hard-state-sync', 'term and vote are written but not fsynced before the replies that depend on them'],
  ['lock.read-without-confirm', 'GET /lock/{name} is answered by any node from its own table: no forwarding, no ReadIndex'],
  ['lock.grant-ignores-waiters', 'an acquire is granted whenever waiters are queued, compatible with the holders or not'],
  ['lock.exclusive-over-shared', 'an exclusive request is granted over shared holders'],
  ['lock.stale-token', "a grant's fencing token is the previous log index, not max(last token + 1, index)"],
  ['lock.reuse-token', "a grant's fencing token is max(last token, index): the last token may be handed out again"],
  ['session.no-dedupe', 'a retried request (same session and seq) is applied again instead of answered from the session table'],
  ['lock.expire-by-local-clock', "leases expire by each replica's own clock when a tick is applied, not by the tick's replicated time"],
  ['lock.grant-without-quorum', 'the node grants locks from a table of its own, without Raft (= --unsafe-grant-without-quorum)'],
  ['queue.ack-before-commit', 'a queue leader answers an enqueue at once and proposes it up to 500 ms later (write-behind): a crash or partition loses acknowledged messages'],
  ['queue.expired-lease-drops', 'a message whose lease ran out (its consumer never acked) is not delivered again'],
  ['queue.ack-on-leader-only', 'an ack removes the message on the leader only, never replicated: after a failover the acked message is delivered again'],
  ['cache.skip-invalidation-acks', 'a cache home lets a write proceed without waiting for the other copies to be invalidated (nor for unreachable holders’ leases to run out)'],
  ['cache.serve-after-lease', 'a cache node serves its copy of a key after its lease ran out (a partitioned holder keeps serving)'],
  ['cache.failover-no-grace', 'a node that takes over a dead cache home’s keys serves them at once, while copies the old home granted may still be served'],
] as const;

/** The name of a failpoint. */
export type FailpointName = (typeof FAILPOINTS)[number][0];

/** The names, in {@link FAILPOINTS}' order. */
export const FAILPOINT_NAMES: readonly FailpointName[] = FAILPOINTS.map(([name]) => name);

/** The environment variable the switches are read from. */
export const FAILPOINTS_ENV = 'DSYNC_FAILPOINTS';

const isName = (s: string): s is FailpointName => (FAILPOINT_NAMES as readonly string[]).includes(s);

/**
 * Parses a comma-separated list of failpoint names (blanks around names and empty items are
 * ignored; `undefined` or `""` is none).
 * @throws RangeError naming the first unknown name and listing the known ones
 */
export function parseFailpoints(text: string | undefined): FailpointName[] {
  const names: FailpointName[] = [];
  for (const item of (text ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    if (!isName(item)) throw new RangeError(`${FAILPOINTS_ENV}: unknown failpoint "${item}" (known: ${FAILPOINT_NAMES.join(', ')})`);
    if (!names.includes(item)) names.push(item);
  }
  return names;
}

/** Is each failpoint on? Read at the planted bugs; changed only by {@link setFailpointsForTest}. */
export const FP: Readonly<Record<FailpointName, boolean>> = Object.seal(
  Object.fromEntries(FAILPOINT_NAMES.map((n) => [n, false])) as Record<FailpointName, boolean>,
);

/** Why `DSYNC_FAILPOINTS` was refused at load, if it was. */
let loadError: RangeError | null = null;

function enable(names: readonly FailpointName[]): void {
  const fp = FP as Record<FailpointName, boolean>;
  for (const n of FAILPOINT_NAMES) fp[n] = names.includes(n);
}

try {
  enable(parseFailpoints(process.env[FAILPOINTS_ENV]));
} catch (e) {
  loadError = e as RangeError;
}

/** The failpoints on, in {@link FAILPOINTS}' order (empty in production). */
export function enabledFailpoints(): readonly FailpointName[] {
  return FAILPOINT_NAMES.filter((n) => FP[n]);
}

/**
 * Throws if `DSYNC_FAILPOINTS` named an unknown failpoint (then none is on). A node calls it
 * before it starts.
 * @throws RangeError naming the bad name and listing the known ones
 */
export function checkFailpoints(): void {
  if (loadError !== null) throw loadError;
}

/**
 * TEST AID: switches exactly `names` on (and every other failpoint off) in this process, e.g.
 * `setFailpointsForTest([])` to turn them all off again. Returns the names that were on, to
 * restore. Only tests call it; a node reads `DSYNC_FAILPOINTS` instead.
 * @throws RangeError for an unknown name (and changes nothing)
 */
export function setFailpointsForTest(names: readonly string[]): FailpointName[] {
  const parsed = parseFailpoints(names.join(','));
  const before = [...enabledFailpoints()];
  enable(parsed);
  return before;
}
