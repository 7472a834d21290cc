/**
 * `mutex`: a single lock, as Knossos models it: `:acquire` is ok only when the lock is free,
 * `:release` only when it is held (by anyone).
 */
import { defineModel, ModelInputError } from '../model.js';

const ACQUIRE = 0;
const RELEASE = 1;
const MAYBE_ACQUIRE = 2;
const MAYBE_RELEASE = 3;

/** A mutex; the state is 1 when held, 0 when free. */
export const mutex = defineModel<number, number>({
  name: 'mutex',
  description: 'a single lock, initially free: :acquire ok only when free, :release ok only when held',
  init: () => 0,
  prepare(op) {
    const info = op.type === 'info';
    if (op.f === 'acquire') return info ? MAYBE_ACQUIRE : ACQUIRE;
    if (op.f === 'release') return info ? MAYBE_RELEASE : RELEASE;
    throw new ModelInputError(`mutex has no operation '${op.f}' (it takes acquire, release)`, op);
  },
  inputKey: (input) => input,
  step(held, input) {
    switch (input) {
      case ACQUIRE:
        return held === 0 ? 1 : undefined;
      case RELEASE:
        return held === 1 ? 0 : undefined;
      case MAYBE_ACQUIRE:
        return 1;
      default: // MAYBE_RELEASE
        return 0;
    }
  },
  hash: (held) => held,
  describeState: (held) => (held === 1 ? 'held' : 'free'),
});
