/**
 * The node's audit of its replicated state (see `RaftNodeOptions.auditEvery`): every N applied
 * entries it logs `applied state digest` with the entry's index and term and a digest of the
 * state machine's whole state. Every replica applies the same entries in the same order, so for
 * any index two nodes both logged, the terms and digests must be equal (Raft's State Machine
 * Safety); the harness compares them across the nodes' logs after a run.
 */
import { createHash } from 'node:crypto';

/** The log message of an audit record (its fields: `index`, `term`, `state`). */
export const APPLIED_DIGEST_MSG = 'applied state digest';

/** How often the harness's nodes audit, in applied entries. */
export const HARNESS_AUDIT_EVERY = 25;

/**
 * A digest of a state machine's state: SHA-256 of its JSON, 16 hex digits. The state must
 * serialize deterministically (the same entries applied in the same order give the same JSON:
 * Maps iterate in insertion order, which replay reproduces).
 */
export function stateDigest(state: unknown): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 16);
}
