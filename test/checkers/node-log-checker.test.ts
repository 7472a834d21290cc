import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNodeLogs, MAX_MATCHES, NODE_LOG_RULES, nodeLogChecker, type NodeLogResult } from '../../checkers/index.js';

/** A pino line as `dsync node` writes it. */
const line = (node: string, msg: string, fields: Record<string, unknown> = {}, level = 30): string => JSON.stringify({ level, time: 1, node, ...fields, msg });
const role = (node: string, r: string, term: number): string => line(node, 'raft role', { role: r, term, leader: r === 'leader' ? node : null });
const recovered = (node: string, term: number): string => line(node, 'recovered', { term, vote: null, snapshot: 0, entries: 3 });
const healthy = (node: string): string[] => [recovered(node, 0), line(node, 'listening', { address: '127.0.0.1:1' }), role(node, 'follower', 1)];
const logs = (byNode: Record<string, string[]>): Map<string, string> => new Map(Object.entries(byNode).map(([n, ls]) => [n, `${ls.join('\n')}\n`]));
const rules = (r: NodeLogResult): string[] => r.violations.map((v) => v.rule);

describe('checkers/node-log-checker', () => {
  it('a healthy run is valid: leaders of different terms, restarts that keep their term, a line cut short by kill -9', () => {
    const r = checkNodeLogs(
      logs({
        n1: [...healthy('n1'), role('n1', 'leader', 2), '{"level":30,"time":1,"node":"n1","ms', recovered('n1', 2), role('n1', 'follower', 3)],
        n2: [...healthy('n2'), role('n2', 'candidate', 3), role('n2', 'leader', 3), line('n2', 'peer message refused', { err: 'entry 4 of term 1 does not match', from: 'n1', type: 'append' }, 40)],
        n3: healthy('n3'),
      }),
    );
    assert.equal(r.valid, true, r.reason);
    assert.deepEqual(r.violations, []);
    assert.equal(r.nodes, 3);
    assert.equal(r.lines, 16);
    assert.match(r.summary ?? '', /^no safety guard fired in 16 lines of 3 node logs$/);
  });

  const cases: [string, Record<string, string[]>, string, RegExp][] = [
    [
      'a follower refusing to truncate a committed entry',
      { n1: [...healthy('n1'), line('n1', 'peer message refused', { err: 'raft log: refusing to truncate committed entry 7 (commit 9)', from: 'n2', type: 'append' }, 40)] },
      'committed-truncation',
      /n1 line 4: .*refusing to truncate committed entry 7/,
    ],
    ['an in-memory log out of order', { n2: [...healthy('n2'), line('n2', 'peer message refused', { err: 'raft log: entry 5 is not contiguous after 3' }, 40)] }, 'log-invariant', /n2 line 4/],
    [
      'a damaged hard-state file at start',
      { n1: [...healthy('n1'), line('n1', 'start failed', { err: { type: 'StorageFormatError', message: 'hard-state.dat is damaged (empty file)', code: 'BAD_RAFT_STORAGE' } }, 60)] },
      'storage-damage',
      /n1 line 4/,
    ],
    ['a fatal line', { n3: [...healthy('n3'), line('n3', 'raft stopped: the disk refused a write; restart the node to recover from its data dir', { err: { message: 'EIO' } }, 60)] }, 'fatal', /n3 line 4/],
    [
      'an uncaught exception (one match per stack)',
      { n1: [...healthy('n1'), 'file:///x/dist/cluster/raft/core.js:10', '        throw new Error("boom");', 'Error: boom', '    at RaftCore.step (file:///x/dist/cluster/raft/core.js:10:15)', '    at RaftNode.#loop (file:///x/dist/cluster/raft/raft-node.js:3:4)'] },
      'crash',
      /n1 line 7: +at RaftCore\.step/,
    ],
    [
      'two nodes leader of one term',
      { n1: [...healthy('n1'), role('n1', 'leader', 4)], n2: [...healthy('n2'), role('n2', 'follower', 4), role('n2', 'leader', 4)] },
      'two-leaders',
      /term 4: leaders n1, n2 \(n1 at log line 4\)/,
    ],
    [
      'a node restarting below a term it led',
      { n1: [...healthy('n1'), role('n1', 'leader', 5), role('n1', 'follower', 6), recovered('n1', 1)] },
      'term-regressed',
      /n1 line 6: recovered term 1, but it was leader in term 5 \(log line 4\)/,
    ],
  ];
  for (const [what, byNode, rule, where] of cases) {
    it(`${rule}: ${what}`, () => {
      const r = checkNodeLogs(logs(byNode));
      assert.equal(r.valid, false);
      assert.deepEqual(rules(r), [rule]);
      assert.equal(r.violations[0]?.explanation, new Map<string, string>(NODE_LOG_RULES).get(rule));
      assert.match(r.reason ?? '', where);
      assert.ok((r.reason ?? '').startsWith(`${rule} (1) in `), r.reason);
    });
  }

  it('lists at most a few matches per rule, counts them all, and reports every rule that matched', () => {
    const refused = (i: number): string => line('n1', 'peer message refused', { err: `raft log: refusing to truncate committed entry ${i} (commit 99)` }, 40);
    const r = checkNodeLogs(logs({ n1: [...Array.from({ length: 8 }, (_, i) => refused(i + 1)), role('n1', 'leader', 2)], n2: [role('n2', 'leader', 2)] }));
    assert.deepEqual(rules(r), ['committed-truncation', 'two-leaders']);
    assert.equal(r.violations[0]?.count, 8);
    assert.equal(r.violations[0]?.matches.length, MAX_MATCHES);
    assert.deepEqual(r.violations[0]?.matches[1], { node: 'n1', line: 2, text: refused(2) });
    assert.match(r.reason ?? '', /^committed-truncation \(8\), two-leaders \(1\) in 10 lines of 2 node logs; first: committed-truncation — a node was asked/);
  });

  it('as a checker: reads the files when it runs, skipping a node that never started', () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-logs-'));
    try {
      writeFileSync(join(dir, 'n1.log'), `${[...healthy('n1'), role('n1', 'leader', 3)].join('\n')}\n`);
      writeFileSync(join(dir, 'n2.log'), `${role('n2', 'leader', 3)}\n`);
      const checker = nodeLogChecker(new Map([['n1', join(dir, 'n1.log')], ['n2', join(dir, 'n2.log')], ['n3', join(dir, 'n3.log')]]));
      assert.equal(checker.name, 'node-logs');
      const r = checker.check([], { timeoutMs: 1000 }) as NodeLogResult;
      assert.equal(r.valid, false);
      assert.equal(r.nodes, 2);
      assert.deepEqual(rules(r), ['two-leaders']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
