/** Hand-built histories for tests: events without their index, numbered in order. */
import type { Op, OpType, ProcessId } from '../../checkers/history/op.js';

/** An event before it is numbered. */
export interface Event {
  readonly type: OpType;
  readonly f: string;
  readonly value: unknown;
  readonly process: ProcessId;
  readonly time: number;
  readonly [extra: string]: unknown;
}

/** Numbers the events of a hand-built history. */
export const history = (...events: (Event | Event[])[]): Op[] => events.flat().map((e, index) => ({ ...e, index }));
