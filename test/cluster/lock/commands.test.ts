import assert from 'node:assert/strict';
import { LockCommandError, validateLockCommand } from '../../../cluster/lock/index.js';

const acquire = { type: 'acquire', name: 'x', client: 'a', mode: 'shared', ttlMs: 100, waitMs: 0, now: 5 };
const release = { type: 'release', name: 'x', client: 'a', token: 3 };
const renew = { type: 'renew', name: 'x', client: 'a', token: 3, ttlMs: 100, now: 5 };
const tick = { type: 'tick', now: -2.5 };

describe('lock command validation', () => {
  it('accepts well-formed commands and keeps only their fields', () => {
    for (const c of [acquire, release, renew, tick]) assert.deepEqual(validateLockCommand({ ...c, extra: 1 }), c);
  });

  const bad: { what: string; input: unknown; field: string }[] = [
    { what: 'not an object', input: 'acquire', field: 'command' },
    { what: 'null', input: null, field: 'command' },
    { what: 'an array', input: [acquire], field: 'command' },
    { what: 'an unknown type', input: { ...acquire, type: 'upgrade' }, field: 'type' },
    { what: 'no type', input: { name: 'x' }, field: 'type' },
    { what: 'an empty name', input: { ...acquire, name: '' }, field: 'name' },
    { what: 'a name of 257 characters', input: { ...acquire, name: 'n'.repeat(257) }, field: 'name' },
    { what: 'a numeric client', input: { ...release, client: 7 }, field: 'client' },
    { what: 'a client of 257 characters', input: { ...renew, client: 'c'.repeat(257) }, field: 'client' },
    { what: 'an unknown mode', input: { ...acquire, mode: 'read' }, field: 'mode' },
    { what: 'a zero ttlMs', input: { ...acquire, ttlMs: 0 }, field: 'ttlMs' },
    { what: 'a negative ttlMs on renew', input: { ...renew, ttlMs: -1 }, field: 'ttlMs' },
    { what: 'an infinite ttlMs', input: { ...acquire, ttlMs: Number.POSITIVE_INFINITY }, field: 'ttlMs' },
    { what: 'a ttlMs that overflows now + ttlMs', input: { ...acquire, now: Number.MAX_VALUE, ttlMs: Number.MAX_VALUE }, field: 'ttlMs' },
    { what: 'a negative waitMs', input: { ...acquire, waitMs: -5 }, field: 'waitMs' },
    { what: 'a string waitMs', input: { ...acquire, waitMs: '10' }, field: 'waitMs' },
    { what: 'a NaN now', input: { ...acquire, now: Number.NaN }, field: 'now' },
    { what: 'a missing now on tick', input: { type: 'tick' }, field: 'now' },
    { what: 'a zero token', input: { ...release, token: 0 }, field: 'token' },
    { what: 'a fractional token', input: { ...renew, token: 1.5 }, field: 'token' },
    { what: 'a token beyond the safe integers', input: { ...release, token: 2 ** 53 }, field: 'token' },
  ];
  for (const { what, input, field } of bad) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(
        () => validateLockCommand(input),
        (e: unknown) => e instanceof LockCommandError && e.field === field && e.message.startsWith(`${field}: `) && e.name === 'LockCommandError',
      );
    });
  }
});
