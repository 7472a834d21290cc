/**
 * Registers: `register` (read/write) and `cas-register` (read/write/compare-and-set), with
 * Knossos' semantics: initially nil; `:write v`; `:cas [old new]` is ok only if the register
 * holds `old`; a `:read` is ok with the value held, and a read of nil constrains nothing.
 */
import { defineModel, ModelInputError, type Model } from '../model.js';
import { describeValue } from '../values.js';

const READ = 0;
const WRITE = 1;
const CAS = 2;
const MAYBE_CAS = 3;

/** A register op with values interned: `a` is the read/written/expected value, `b` the new one. */
interface RegisterInput {
  readonly k: number;
  readonly a: number;
  readonly b: number;
}

function registerModel(name: string, withCas: boolean): Model<number, RegisterInput> {
  const fs = withCas ? 'read, write, cas' : 'read, write';
  return defineModel<number, RegisterInput>({
    name,
    description: withCas
      ? 'compare-and-set register, initially nil: :read, :write v, :cas [old new] (Knossos semantics; nil reads constrain nothing)'
      : 'read/write register, initially nil: :read, :write v (nil reads constrain nothing)',
    initialValue: 'the register\'s initial value (default nil)',
    init: (ctx, initial) => ctx.intern(initial),
    prepare(op, ctx) {
      switch (op.f) {
        case 'read':
          if (op.type === 'info' || op.value === null || op.value === undefined) return null;
          return { k: READ, a: ctx.intern(op.value), b: 0 };
        case 'write':
          return { k: WRITE, a: ctx.intern(op.invokeValue ?? op.value), b: 0 };
        case 'cas': {
          if (!withCas) break;
          const v = op.invokeValue;
          if (!Array.isArray(v) || v.length !== 2) {
            throw new ModelInputError(`cas value must be [old new], got ${describeValue(v)}`, op);
          }
          return { k: op.type === 'ok' ? CAS : MAYBE_CAS, a: ctx.intern(v[0]), b: ctx.intern(v[1]) };
        }
        default:
          break;
      }
      throw new ModelInputError(`${name} has no operation '${op.f}' (it takes ${fs})`, op);
    },
    prune(inputs, info) {
      // An info op whose written value no kept op can observe is never needed: it can always be
      // linearized after everything else (see the README's checker notes). Iterate, since
      // dropping an info cas may make its expected value unobserved.
      const keep = inputs.map(() => true);
      for (let changed = true; changed; ) {
        changed = false;
        const observed = new Set<number>();
        inputs.forEach((x, i) => {
          if (!keep[i]) return;
          if ((x.k === READ || x.k === CAS) && !info[i]) observed.add(x.a);
          if (x.k === MAYBE_CAS) observed.add(x.a);
        });
        inputs.forEach((x, i) => {
          if (!info[i] || !keep[i]) return;
          const written = x.k === WRITE ? x.a : x.k === MAYBE_CAS ? x.b : -1;
          // An info cas [v v] changes nothing in any state.
          const noop = x.k === MAYBE_CAS && x.a === x.b;
          if (noop || (written !== -1 && !observed.has(written))) {
            keep[i] = false;
            changed = true;
          }
        });
      }
      return keep;
    },
    inputKey: (x) => `${x.k},${x.a},${x.b}`,
    step(state, input) {
      switch (input.k) {
        case READ:
          return state === input.a ? state : undefined;
        case WRITE:
          return input.a;
        case CAS:
          return state === input.a ? input.b : undefined;
        default: // MAYBE_CAS: an info cas took effect only if it could
          return state === input.a ? input.b : state;
      }
    },
    hash: (state) => state,
    describeState: (state, ctx) => describeValue(ctx.valueOf(state)),
  });
}

/** A read/write register, initially nil. */
export const register = registerModel('register', false);
/** A compare-and-set register, initially nil (Knossos' `cas-register`). */
export const casRegister = registerModel('cas-register', true);
