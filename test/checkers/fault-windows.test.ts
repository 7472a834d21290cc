import assert from 'node:assert/strict';
import { faultLabel } from '../../checkers/fault-windows.js';

describe('fault windows', () => {
  describe('labels from the start op completion value', () => {
    const cases: [kind: string, value: unknown, label: string][] = [
      ['partition', { topology: 'majorities-ring', cuts: [['n1', 'n2']] }, 'majorities-ring'],
      ['partition', { topology: 'isolate-one', cuts: [], components: [['n3'], ['n1', 'n2']] }, 'isolate-one'],
      ['kill', ['n1', 'n3'], 'n1 n3'],
      ['pause', ['n2'], 'n2'],
      ['latency', [['n1', 'n2'], ['n2', 'n1']], '2 links'],
      ['latency', [['n1', 'n2']], '1 link'],
      ['clock', { kind: 'bump', target: ['n1'], offsets: { n1: 5 } }, 'bump n1'],
      ['kill', null, ''],
      ['future-fault', 'something', 'something'],
    ];
    for (const [kind, value, label] of cases) {
      it(`${kind} ${JSON.stringify(value)} → ${JSON.stringify(label)}`, () => assert.equal(faultLabel(kind, value), label));
    }
  });
});
