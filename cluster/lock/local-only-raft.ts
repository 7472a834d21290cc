/**
 * A stand-in for Raft that commits every proposal at once on this node alone — the engine of
 * `dsync node --unsafe-grant-without-quorum`, a TEST AID that deliberately breaks safety: every
 * node with the flag grants locks from a table of its own, so two nodes can grant one lock to
 * two clients at once. The harness's own test runs an experiment against such nodes and expects
 * the checker to call the history invalid; never use it for anything else.
 */
import type { LockRaft } from './lock-service.js';
import type { ProposalOutcome } from '../raft/raft-node.js';
import type { LockMachine } from './lock-machine.js';

/** Applies each proposal to `machine` immediately, with its own index counter. */
export class LocalOnlyRaft implements LockRaft {
  readonly role = 'leader';
  readonly leader: string;
  readonly #machine: LockMachine;
  #index = 0;

  constructor(id: string, machine: LockMachine) {
    this.leader = id;
    this.#machine = machine;
  }

  async propose(data: unknown): Promise<ProposalOutcome> {
    const index = ++this.#index;
    const result = this.#machine.apply({ index, term: 1, data });
    return { status: 'applied', index, result };
  }

  async readIndex(): Promise<number> {
    return this.#index;
  }
}
