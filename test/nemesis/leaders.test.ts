import assert from 'node:assert/strict';
import type { LeaderView } from '../../cluster/backend.js';
import { minorityLeader, quorumLeader } from '../../nemesis/index.js';

const v = (node: string, leader: string | null, term: number): LeaderView => ({ node, leader, term, role: leader === node ? 'leader' : 'follower' });

describe('nemesis/leaders', () => {
  it('the quorum leader is the one a majority of all members names in the same term, in the highest such term', () => {
    const table: [string, LeaderView[], number, string | null, string | null][] = [
      ['all agree', [v('n1', 'n1', 2), v('n2', 'n1', 2), v('n3', 'n1', 2)], 3, 'n1', null],
      [
        'isolated old leader (n1, term 2) vs the majority side (n3, term 3)',
        [v('n1', 'n1', 2), v('n2', 'n3', 3), v('n3', 'n3', 3), v('n4', 'n3', 3), v('n5', 'n3', 3)],
        5,
        'n3',
        'n1',
      ],
      ['two of five are not a majority', [v('n1', 'n1', 2), v('n2', 'n1', 2), v('n3', null, 3)], 5, null, 'n1'],
      ['same leader, different terms do not add up', [v('n1', 'n1', 3), v('n2', 'n1', 2), v('n3', 'n1', 2)], 3, null, 'n1'],
      ['the leader itself must answer', [v('n2', 'n1', 2), v('n3', 'n1', 2)], 3, null, null],
      ['the leader must name itself in that term', [v('n1', 'n2', 4), v('n2', 'n1', 3), v('n3', 'n1', 3)], 3, null, null],
      ['no views', [], 3, null, null],
      [
        'two majorities cannot both exist, but the higher term wins if the views say so',
        [v('n1', 'n1', 2), v('n2', 'n1', 2), v('n3', 'n3', 5), v('n4', 'n3', 5), v('n5', 'n3', 5), v('n6', 'n3', 5)],
        5,
        'n3',
        'n1',
      ],
    ];
    for (const [name, views, members, majority, minority] of table) {
      assert.equal(quorumLeader(views, members), majority, name);
      assert.equal(minorityLeader(views, members), minority, name);
    }
  });

  it('of several minority leaders, the one in the highest term', () => {
    const views = [v('n1', 'n1', 2), v('n2', 'n2', 4), v('n3', 'n4', 5), v('n4', 'n4', 5), v('n5', 'n4', 5)];
    assert.equal(quorumLeader(views, 5), 'n4');
    assert.equal(minorityLeader(views, 5), 'n2');
  });
});
