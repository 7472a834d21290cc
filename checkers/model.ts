/**
 * The model contract of the linearizability checker: a sequential specification of a datatype.
 *
 * As in Porcupine, a model is a set of pure functions. `init` gives the initial state; `step`
 * applies one operation (its argument and its observed result together) and returns the next
 * state, or `undefined` when the operation could not have returned what it did in that state.
 * `prepare` turns each completed history operation into the model's compact input once, before
 * the search, so that `step` — called millions of times — does no parsing.
 */
import type { CompletedOp } from './history/complete.js';

/** Helpers a model's `prepare` may use. */
export interface PrepareContext {
  /**
   * A small integer standing for `value`, equal for equal values (deep equality for arrays and
   * maps; EDN keywords and strings differ). `null`/`undefined` are always 0.
   */
  intern(value: unknown): number;
  /** The value an interned id stands for (for descriptions). */
  valueOf(id: number): unknown;
}

/** A sequential specification the checker searches against. */
export interface Model<S = unknown, I = unknown> {
  /** The name users pass to `--model`. */
  readonly name: string;
  /** One line saying what the model is and which ops it takes. */
  readonly description: string;
  /**
   * The initial state. `initial` is the user's initial value (`--initial`), given only to models
   * that document one in {@link initialValue}.
   */
  init(ctx: PrepareContext, initial?: unknown): S;
  /** What `--initial` sets for this model, e.g. "the register's value"; absent if it takes none. */
  readonly initialValue?: string;
  /**
   * The model's input for one op, or `null` if the op neither constrains nor changes the state
   * (e.g. a read whose result is unknown), in which case the checker drops it.
   * For `info` ops (`op.type === 'info'`), the result is unknown: the input must make `step`
   * accept the op in every state (applying its effect where it could have had one, and leaving the
   * state alone where it could not), since the checker may also place it after every other op.
   * @throws ModelInputError when the op is not one this model understands.
   */
  prepare(op: CompletedOp, ctx: PrepareContext): I | null;
  /** The state after `input`, or `undefined` if `input` is impossible in `state`. Must be pure. */
  step(state: S, input: I): S | undefined;
  /**
   * Which ops to keep (`true`) among a partition's prepared inputs, given which are `info` ops.
   * A model may drop `info` ops that no linearization needs — e.g. a register write whose value
   * no one ever observed can always be placed after everything else. Optional; it only makes the
   * search faster, and must never drop an op some linearization needs.
   */
  prune?(inputs: readonly I[], info: readonly boolean[]): boolean[];
  /**
   * A test of whether an op can still be linearized after a state, for the partition whose
   * inputs (`ok` and `info`) are given — or `undefined` when the model cannot tell there (the
   * default). The search drops a configuration as soon as an op that must still be linearized
   * cannot be (e.g. in an append-only `kv` key, a get whose result does not start with the current
   * string). It must be sound: `false` only when no sequence of further ops of the partition
   * makes the op possible. Optional; it only makes the search faster.
   */
  stillPossible?(inputs: readonly I[]): ((state: S, input: I) => boolean) | undefined;
  /**
   * A key equal for inputs with the same effect in every state. Optional: `info` ops with equal
   * keys are interchangeable, so the search linearizes them in invocation order only.
   */
  inputKey?(input: I): string | number;
  /** State equality; defaults to `===`. */
  equal?(a: S, b: S): boolean;
  /** A 32-bit hash consistent with `equal`; optional (the search keys its cache on the linearized set). */
  hash?(state: S): number;
  /**
   * Splits a history into independent sub-histories that can be checked separately
   * (P-compositionality); each part carries a key for reports. Default: one part.
   */
  partition?(ops: readonly CompletedOp[]): Partition[];
  /** A state in words, for counterexamples. */
  describeState?(state: S, ctx: PrepareContext): string;
}

/** One independent part of a history. */
export interface Partition {
  /** What the part is about, e.g. the key; `null` for the whole history. */
  readonly key: unknown;
  readonly ops: readonly CompletedOp[];
}

/** An op a model cannot interpret (wrong `f`, malformed value). */
export class ModelInputError extends Error {
  readonly code = 'MODEL_INPUT';
  constructor(
    readonly reason: string,
    readonly op: CompletedOp,
  ) {
    super(reason);
    this.name = 'ModelInputError';
  }
}

/** A model configured wrongly, e.g. with an initial value it cannot take. */
export class ModelConfigError extends Error {
  readonly code = 'MODEL_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

/** Builds a model whose types are checked, erasing them for the registry. */
export function defineModel<S, I>(model: Model<S, I>): Model<S, I> {
  return model;
}
