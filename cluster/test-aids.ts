/**
 * The switch that lets a node accept its test aids — the switches that break safety on purpose
 * (`--unsafe-grant-without-quorum`, `$DSYNC_FAILPOINTS`, `$DSYNC_LOSE_UNSYNCED`): `dsync node`
 * refuses them, and does not list the flag in its help, unless `DSYNC_TEST_AIDS=1` is in its
 * environment. The harness sets it for the nodes it starts; nobody turns safety off by accident.
 */

/** The environment variable that allows test aids. */
export const TEST_AIDS_ENV = 'DSYNC_TEST_AIDS';

/** Is `DSYNC_TEST_AIDS=1` set? */
export function testAidsAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[TEST_AIDS_ENV] === '1';
}

/**
 * Throws if a test aid is asked for (each name in `asked`, e.g. a flag or an environment
 * variable) without `DSYNC_TEST_AIDS=1`.
 * @throws RangeError naming the first one
 */
export function checkTestAids(asked: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const first = asked[0];
  if (first === undefined || testAidsAllowed(env)) return;
  throw new RangeError(`${first} is a test aid that breaks safety on purpose; it is accepted only with ${TEST_AIDS_ENV}=1 in the environment`);
}
