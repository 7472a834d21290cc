/**
 * Pairs each invocation with its completion, per process, into completed operations: the input
 * of the linearizability checker.
 */
import { isNemesis, type Op, type ProcessId } from './op.js';

/**
 * An operation with its invocation and completion paired. Only operations that may have happened
 * are kept: `ok` ones, and `info` ones (unknown outcome, also an invocation with no completion),
 * which stay open to the end of the history. `fail` ones surely did not happen and are dropped.
 */
export interface CompletedOp {
  readonly process: ProcessId;
  readonly f: string;
  /** `ok`: it happened between call and return; `info`: it may have happened after its call. */
  readonly type: 'ok' | 'info';
  /** The invocation's value (the argument). */
  readonly invokeValue: unknown;
  /** The completion's value for `ok` ops (a read's result); the invocation's for `info` ones. */
  readonly value: unknown;
  /** The position of the invocation among the history's events (real-time order). */
  readonly call: number;
  /** The position of the completion, or `Infinity` for `info` ops. */
  readonly ret: number;
  /** The invocation event. */
  readonly invoke: Op;
  /** The completion event (absent when the history ends before it). */
  readonly complete?: Op;
  /** Extra data a model or wrapper attached (e.g. the key of an independent tuple). */
  readonly key?: unknown;
}

/** A history whose invocations and completions do not pair up. `at` is the offending event's position. */
export class PairingError extends Error {
  readonly code = 'BAD_PAIRING';
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {
    super(reason);
    this.name = 'PairingError';
  }
}

/**
 * Pairs the client operations of `history` (nemesis events are skipped). Positions in the result
 * (`call`, `ret`) are indices into `history`.
 * @throws PairingError when a completion has no open invocation, a process invokes twice without
 * completing, or a completion's `f` differs from its invocation's.
 */
export function completeHistory(history: readonly Op[]): CompletedOp[] {
  const open = new Map<ProcessId, number>();
  const slots: (CompletedOp | null)[] = [];
  const slotOf = new Map<number, number>();
  for (let i = 0; i < history.length; i++) {
    const op = history[i] as Op;
    if (isNemesis(op)) continue;
    if (op.type === 'invoke') {
      const prev = open.get(op.process);
      if (prev !== undefined) {
        throw new PairingError(
          `process ${String(op.process)} invokes ${op.f} while its ${(history[prev] as Op).f} (event ${prev}) has not completed`,
          i,
        );
      }
      open.set(op.process, i);
      slotOf.set(i, slots.length);
      slots.push(null);
      continue;
    }
    const inv = open.get(op.process);
    if (inv === undefined) {
      throw new PairingError(`${op.type} completion of ${op.f} for process ${String(op.process)} with no open invocation`, i);
    }
    const invoke = history[inv] as Op;
    if (invoke.f !== op.f) {
      throw new PairingError(`${op.type} completion of ${op.f} for process ${String(op.process)} does not match its invocation of ${invoke.f} (event ${inv})`, i);
    }
    open.delete(op.process);
    const slot = slotOf.get(inv) as number;
    if (op.type === 'fail') continue;
    const hasValue = op.value !== null && op.value !== undefined;
    slots[slot] = {
      process: op.process,
      f: op.f,
      type: op.type === 'ok' ? 'ok' : 'info',
      invokeValue: invoke.value,
      value: op.type === 'ok' ? (hasValue ? op.value : invoke.value) : invoke.value,
      call: inv,
      ret: op.type === 'ok' ? i : Infinity,
      invoke,
      complete: op,
    };
  }
  // Invocations that never completed may have happened: they are info ops.
  for (const inv of open.values()) {
    const invoke = history[inv] as Op;
    slots[slotOf.get(inv) as number] = {
      process: invoke.process,
      f: invoke.f,
      type: 'info',
      invokeValue: invoke.value,
      value: invoke.value,
      call: inv,
      ret: Infinity,
      invoke,
    };
  }
  return slots.filter((s): s is CompletedOp => s !== null);
}
