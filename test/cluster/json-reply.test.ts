/** Reading a node's reply body as JSON: objects as they are, other JSON wrapped, non-JSON a bad-gateway body. */
import assert from 'node:assert/strict';
import { isDefinite } from '../../cluster/api-errors.js';
import { parseJsonReply } from '../../cluster/json-reply.js';

describe('cluster/json-reply', () => {
  it('an object is the body as it is', () => {
    assert.deepEqual(parseJsonReply(200, '{"token":17,"holders":[]}', 'node n1'), { json: true, body: { token: 17, holders: [] } });
  });

  it('JSON that is not an object is wrapped as {value}', () => {
    for (const [text, value] of [['[1,2]', [1, 2]], ['"x"', 'x'], ['42', 42], ['null', null]] as const) {
      assert.deepEqual(parseJsonReply(200, text, 'node n1'), { json: true, body: { value } }, text);
    }
  });

  it('text that is not JSON (or none) is a bad-gateway error body naming the sender and the status, not definite', () => {
    for (const text of ['<html>oops</html>', '', '{"token":']) {
      const r = parseJsonReply(503, text, 'the leader n2');
      assert.deepEqual(r, { json: false, body: { error: 'bad-gateway', message: 'the leader n2 answered HTTP 503 with a body that is not JSON' } }, text);
      assert.equal(isDefinite(503, r.body), false);
    }
  });
});
