/** The lock manager's replicated state machine: commands, their validation, and the lock table. */
export { LockTable } from './lock-table.js';
export { validateLockCommand, LockCommandError, MAX_ID_LENGTH } from './commands.js';
export type { LockMode, LockCommand, LockError, LockResult, LockEvents, LockGrant, LockView } from './commands.js';
export type { LockSnapshot } from './state.js';
export { SessionLocks } from './sessions.js';
export type { RequestId, LockLogData, SessionApplyResult, SessionLocksSnapshot } from './sessions.js';
