/**
 * The generator combinators: small pure generators and the wrappers that compose them (Jepsen's
 * `jepsen.generator`). Each is an immutable object; `op` and `update` return new objects.
 *
 * Waiting with state — a convention of these files on top of {@link GenResult}: a plain
 * `'pending'` carries no successor, so a generator that must remember something while it has
 * nothing to emit (when a {@link sleep} or a {@link timeLimit} started, that {@link phases} moved
 * on) answers a *wait* instead: `{op: {f: WAIT_F, value: null, time: until}, gen}` (see
 * {@link wait}). It means "nothing before `until` (ns; `Infinity`: unknown), and `gen` is my
 * state after being asked". The interpreter never dispatches or records it: it adopts `gen`
 * and asks again at `until` or at the next completion, whichever comes first, and in any case
 * at least every `pollNs` (so generators that answer `'pending'` until some time also work).
 * Combinators adopt their children's wait states; a wrapper written elsewhere that passes ops
 * through unchanged keeps the convention too, but one that counts or retimes ops must let
 * waits ({@link isWait}) pass untouched.
 *
 * An op leaving `process` out runs on the lowest free client (the interpreter fills it in), or
 * on the nemesis inside {@link nemesisOnly}.
 */
export { WAIT_F, wait, isWait } from './wait.js';
export { ops, once, repeat, fromFunction, sleep } from './sources.js';
export type { GenStep } from './sources.js';
export { limit, timeLimit, clientsOnly, nemesisOnly } from './limits.js';
export { mix, any, phases, phasesAwaitingNemesis, cycle } from './composition.js';
export type { Weighted } from './composition.js';
export { rate, stagger } from './timing.js';
export type { RateOptions } from './timing.js';
