import assert from 'node:assert/strict';
import { errors } from 'undici';
import { API_ERRORS, isDefinite, neverSent } from '../../cluster/api-errors.js';
import type { LockError } from '../../cluster/lock/commands.js';

/** Every error the lock table can answer with; the type makes this list complete. */
const LOCK_ERRORS = Object.keys({ conflict: true, deadlock: true, 'not-held': true, timeout: true, forbidden: true } satisfies Record<LockError, true>) as LockError[];

describe('cluster/api-errors', () => {
  it('has one well-formed entry per code', () => {
    assert.ok(API_ERRORS.size > 0);
    for (const [code, e] of API_ERRORS) {
      assert.equal(e.code, code);
      assert.ok(Number.isInteger(e.status) && e.status >= 400 && e.status < 600, `${code}: status ${e.status}`);
      assert.ok(e.doc.length > 0, code);
      // 5xx codes are never definite by themselves: the request may have taken effect.
      if (e.status >= 500) assert.notEqual(e.definite, true, code);
    }
  });

  describe('isDefinite for every code in the table', () => {
    const expected: Record<string, boolean | 'per-response'> = {
      'bad-request': true,
      'not-found': true,
      'method-not-allowed': true,
      conflict: true,
      deadlock: true,
      timeout: true,
      'not-held': true,
      forbidden: true,
      'too-large': true,
      'request-timeout': true,
      'limit-exceeded': true,
      internal: false,
      'bad-gateway': false,
      unavailable: 'per-response',
      'store-unavailable': 'per-response',
      'home-moved': 'per-response',
    };

    it('covers exactly the table', () => {
      assert.deepEqual(Object.keys(expected).sort(), [...API_ERRORS.keys()].sort());
    });

    for (const [code, definite] of Object.entries(expected)) {
      it(`${code}: ${definite === 'per-response' ? "the body's definite field" : definite ? 'definite' : 'not definite'}`, () => {
        const e = API_ERRORS.get(code)!;
        assert.equal(e.definite, definite);
        if (definite === 'per-response') {
          assert.equal(isDefinite(e.status, { error: code, definite: true }), true);
          assert.equal(isDefinite(e.status, { error: code, definite: false }), false);
          assert.equal(isDefinite(e.status, { error: code }), false);
          // Only a real `true` counts.
          assert.equal(isDefinite(e.status, { error: code, definite: 'true' }), false);
          assert.equal(isDefinite(e.status, { error: code, definite: 1 }), false);
        } else {
          assert.equal(isDefinite(e.status, { error: code }), definite);
          // The body's own `definite` does not override the table.
          assert.equal(isDefinite(e.status, { error: code, definite: !definite }), definite);
        }
      });
    }

    it('every 409 code is definite', () => {
      const conflicts = [...API_ERRORS.values()].filter((e) => e.status === 409);
      assert.ok(conflicts.length >= 4);
      for (const e of conflicts) {
        assert.equal(e.definite, true, e.code);
        assert.equal(isDefinite(409, { error: e.code }), true, e.code);
      }
    });
  });

  describe('isDefinite for a code not in the table', () => {
    const cases: { status: number; body: { error?: unknown; definite?: unknown }; definite: boolean }[] = [
      { status: 400, body: { error: 'brand-new' }, definite: true },
      { status: 404, body: {}, definite: true },
      { status: 409, body: { error: 'other-conflict' }, definite: true },
      { status: 422, body: { error: 42 }, definite: true },
      { status: 499, body: { error: null }, definite: true },
      { status: 500, body: { error: 'brand-new' }, definite: false },
      { status: 503, body: { error: 'brand-new', definite: true }, definite: false },
      { status: 504, body: {}, definite: false },
      { status: 599, body: { error: 'x' }, definite: false },
    ];
    for (const c of cases) {
      it(`${c.status} ${JSON.stringify(c.body)} → ${c.definite ? 'definite' : 'not definite'}`, () => {
        assert.equal(isDefinite(c.status, c.body), c.definite);
      });
    }
  });

  describe('the lock table errors', () => {
    it('lists the five lock errors', () => {
      assert.deepEqual([...LOCK_ERRORS].sort(), ['conflict', 'deadlock', 'forbidden', 'not-held', 'timeout']);
    });
    for (const code of LOCK_ERRORS) {
      const status = code === 'forbidden' ? 403 : 409;
      it(`${code} is in the table with ${status}, definite`, () => {
        const e = API_ERRORS.get(code);
        assert.ok(e, `${code} is missing from API_ERRORS`);
        assert.equal(e.status, status);
        assert.equal(e.definite, true);
        assert.equal(isDefinite(status, { error: code }), true);
      });
    }
  });

  describe('neverSent: a request that failed without a reply', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const cases: [string, unknown, boolean][] = [
      ['connection refused', refused, true],
      ['host unreachable', Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }), true],
      ['network unreachable', Object.assign(new Error('x'), { code: 'ENETUNREACH' }), true],
      ["undici's connect timeout", new errors.ConnectTimeoutError(), true],
      ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), false],
      ['a socket closed mid-reply', new errors.SocketError('other side closed'), false],
      ['an attempt timeout', AbortSignal.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')).reason, false],
      ['something not an error', 'ECONNREFUSED', false],
      ['nothing', undefined, false],
    ];
    for (const [what, e, sent] of cases) {
      it(`${what} → ${sent ? 'never sent' : 'maybe sent'}`, () => assert.equal(neverSent(e), sent));
    }
  });
});
