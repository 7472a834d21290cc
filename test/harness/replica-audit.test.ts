import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReplicas, parseAuditRecords, replicaAuditChecker } from '../../harness/replica-audit.js';
import { APPLIED_DIGEST_MSG, stateDigest } from '../../cluster/node/state-digest.js';

const rec = (index: number, term: number, state: string): string =>
  JSON.stringify({ level: 30, time: 1, node: 'x', msg: APPLIED_DIGEST_MSG, index, term, state });

describe('harness/replica-audit', () => {
  it('reads audit records from JSON log lines, skipping other and cut lines', () => {
    const text = ['not json', rec(25, 1, 'aa'), '{"msg":"raft role","role":"leader"}', rec(50, 2, 'bb'), rec(75, 2, 'cc').slice(0, 30)].join('\n');
    assert.deepEqual(parseAuditRecords('n1', text), [
      { node: 'n1', line: 2, index: 25, term: 1, state: 'aa' },
      { node: 'n1', line: 4, index: 50, term: 2, state: 'bb' },
    ]);
  });

  it('agrees when every index has one term and one state, whoever reported it', () => {
    const r = auditReplicas([...parseAuditRecords('n1', [rec(25, 1, 'aa'), rec(50, 1, 'bb')].join('\n')), ...parseAuditRecords('n2', [rec(25, 1, 'aa'), rec(50, 1, 'bb'), rec(75, 2, 'cc')].join('\n'))]);
    assert.equal(r.valid, true);
    assert.equal(r.compared, 2);
    assert.match(r.summary ?? '', /replicas agree: 2 audited indexes compared over 2 nodes/);
  });

  it('finds a divergent state, a divergent term, and a node disagreeing with itself after a restart', () => {
    const state = auditReplicas([...parseAuditRecords('n1', rec(25, 1, 'aa')), ...parseAuditRecords('n2', rec(25, 1, 'ab'))]);
    assert.equal(state.valid, false);
    assert.match(state.reason ?? '', /^replicas diverged at 1 of 1 audited indexes; first: index 25: n1 \(log line 1\) applied term 1, state aa; n2 \(log line 1\) applied term 1, state ab/);
    const term = auditReplicas([...parseAuditRecords('n1', rec(50, 2, 'aa')), ...parseAuditRecords('n3', rec(50, 3, 'aa'))]);
    assert.equal(term.valid, false);
    const self = auditReplicas(parseAuditRecords('n1', [rec(25, 1, 'aa'), rec(25, 1, 'zz')].join('\n')));
    assert.equal(self.valid, false);
    assert.match(self.reason ?? '', /n1 \(log line 1\).*n1 \(log line 2\)/);
  });

  it('checks the log files of a run, skipping a node that never wrote one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsync-audit-'));
    try {
      writeFileSync(join(dir, 'n1.log'), `${rec(25, 1, 'aa')}\n`);
      writeFileSync(join(dir, 'n2.log'), `${rec(25, 1, 'aa')}\n`);
      const files = new Map([['n1', join(dir, 'n1.log')], ['n2', join(dir, 'n2.log')], ['n3', join(dir, 'missing.log')]]);
      assert.equal(replicaAuditChecker(files).check([], { timeoutMs: 1000 }).valid, true);
      writeFileSync(join(dir, 'n2.log'), `${rec(25, 1, 'ab')}\n`);
      assert.equal(replicaAuditChecker(files).check([], { timeoutMs: 1000 }).valid, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('digests equal states equally and different states differently', () => {
    assert.equal(stateDigest({ a: [1, 2] }), stateDigest({ a: [1, 2] }));
    assert.notEqual(stateDigest({ a: [1, 2] }), stateDigest({ a: [2, 1] }));
    assert.match(stateDigest(null), /^[0-9a-f]{16}$/);
  });
});
