import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { CatalogueError, catalogueExperiments, parseCatalogue, type Catalogue } from '../../harness/catalogue.js';
import { runCatalogue, type CaseRun, type CaseVerdict } from '../../harness/catalogue-command.js';

const FILE = '/cat/catalogue.yaml';
const YAML = `description: two bugs
bugs:
  - failpoint: raft.a
    bug: bug a
    experiments: [x.yaml, y.yaml]
  - failpoint: lock.b
    bug: bug b
    experiments: [y.yaml]
`;

function catalogueError(text: string, known?: readonly string[]): string {
  let message = '';
  assert.throws(
    () => parseCatalogue(text, FILE, known),
    (e: unknown) => {
      assert.ok(e instanceof CatalogueError, `expected a CatalogueError, got ${String(e)}`);
      message = e.message;
      return true;
    },
  );
  return message;
}

describe('harness/catalogue', () => {
  it('parses bugs and resolves experiments against the file', () => {
    const c = parseCatalogue(YAML, FILE, ['raft.a', 'lock.b']);
    assert.equal(c.description, 'two bugs');
    assert.deepEqual(
      c.bugs.map((b) => [b.failpoint, b.experiments]),
      [
        ['raft.a', [resolve('/cat/x.yaml'), resolve('/cat/y.yaml')]],
        ['lock.b', [resolve('/cat/y.yaml')]],
      ],
    );
    assert.deepEqual(catalogueExperiments(c), [resolve('/cat/x.yaml'), resolve('/cat/y.yaml')]);
  });

  it('names the file, line and field of a problem', () => {
    assert.match(catalogueError(YAML.replace('experiments: [y.yaml]', 'experiments: []')), /^\/cat\/catalogue\.yaml:8: bugs\.1\.experiments: .*got \[\]/);
    assert.match(catalogueError(YAML.replace('bug: bug a', 'bugg: bug a')), /catalogue\.yaml:4: bugs\.0\.bugg: /);
    assert.match(catalogueError(YAML, ['raft.a']), /catalogue\.yaml:6: bugs\.1\.failpoint: no failpoint named "lock\.b" \(known: raft\.a\)/);
    assert.match(catalogueError(YAML.replace('lock.b', 'raft.a')), /catalogue\.yaml:6: bugs\.1\.failpoint: "raft\.a" is already listed as bugs\[0\]/);
    assert.match(catalogueError('bugs: [\n'), /catalogue\.yaml:\d+: not valid YAML/);
    assert.match(catalogueError('- 1\n'), /catalogue\.yaml:1: expected a map of catalogue fields/);
  });
});

describe('harness/catalogue-command runCatalogue', () => {
  const c: Catalogue = parseCatalogue(YAML, FILE);
  /** A fake run: `verdicts` maps "failpoint@experiment" (failpoint "-" for clean) to a verdict; valid otherwise. */
  const fake = (verdicts: Record<string, CaseVerdict>, calls: string[]) => async (experiment: string, failpoint: string | null, seed?: number): Promise<CaseRun> => {
    const key = `${failpoint ?? '-'}@${experiment.split('/').pop()}${seed === undefined ? '' : `#${seed}`}`;
    calls.push(key);
    return { failpoint, experiment, verdict: verdicts[key] ?? 'valid', ms: 1, summary: key };
  };

  it('runs each experiment clean, then each bug until an invalid run catches it', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const o = await runCatalogue(c, { runCase: fake({ 'raft.a@y.yaml': 'invalid', 'lock.b@y.yaml': 'invalid' }, calls), log: (l) => lines.push(l) });
    assert.deepEqual(calls, ['-@x.yaml', '-@y.yaml', 'raft.a@x.yaml', 'raft.a@y.yaml', 'lock.b@y.yaml']);
    assert.deepEqual(o.bugs.map((b) => [b.failpoint, b.caught, b.runs.length]), [['raft.a', true, 2], ['lock.b', true, 1]]);
    assert.equal(o.exitCode, 0);
    assert.match(lines.at(-1) ?? '', /^catalogue: 2\/2 planted bugs caught; clean build 2\/2 valid; /);
  });

  it('fails when a bug is missed (valid or unknown) or a clean run is not valid', async () => {
    const missed = await runCatalogue(c, { runCase: fake({ 'lock.b@y.yaml': 'invalid', 'raft.a@y.yaml': 'unknown' }, []), log: () => {} });
    assert.equal(missed.exitCode, 1);
    assert.deepEqual(missed.bugs.map((b) => b.caught), [false, true]);
    const lines: string[] = [];
    const dirty = await runCatalogue(c, { runCase: fake({ '-@x.yaml': 'invalid', 'raft.a@x.yaml': 'invalid', 'lock.b@y.yaml': 'invalid' }, []), log: (l) => lines.push(l) });
    assert.equal(dirty.exitCode, 1);
    assert.match(lines.at(-1) ?? '', /clean build 1\/2 valid \(NOT VALID: x\)/);
    const error = await runCatalogue(c, { runCase: fake({ 'raft.a@x.yaml': 'error', 'raft.a@y.yaml': 'error', 'lock.b@y.yaml': 'invalid' }, []), log: () => {} });
    assert.equal(error.exitCode, 1, 'a run that errors catches nothing');
  });

  it('a known gap that is missed is listed and does not fail the catalogue; one that is caught says its knownGap can go', async () => {
    const gapped: Catalogue = { ...c, bugs: c.bugs.map((b) => (b.failpoint === 'raft.a' ? { ...b, knownGap: 'needs Figure 8' } : b)) };
    const lines: string[] = [];
    const missed = await runCatalogue(gapped, { runCase: fake({ 'lock.b@y.yaml': 'invalid' }, []), log: (l) => lines.push(l) });
    assert.equal(missed.exitCode, 0);
    assert.ok(lines.includes('gap     raft.a: missed, a known gap: needs Figure 8'), lines.join('\n'));
    assert.match(lines.at(-1) ?? '', /^catalogue: 1\/2 planted bugs caught \(known gaps, not caught: raft\.a\); /);
    const otherMissed = await runCatalogue(gapped, { runCase: fake({}, []), log: () => {} });
    assert.equal(otherMissed.exitCode, 1, 'a bug without knownGap must still be caught');
    const caughtLines: string[] = [];
    const caught = await runCatalogue(gapped, { runCase: fake({ 'raft.a@x.yaml': 'invalid', 'lock.b@y.yaml': 'invalid' }, []), log: (l) => caughtLines.push(l) });
    assert.equal(caught.exitCode, 0);
    assert.ok(caughtLines.some((l) => /raft\.a: listed as a known gap, but caught: remove its knownGap/.test(l)));
  });

  it('with seeds, tries each experiment with each seed in order, and runs each (experiment, seed) clean', async () => {
    const seeded: Catalogue = { ...c, bugs: c.bugs.map((b) => (b.failpoint === 'raft.a' ? { ...b, seeds: [8, 5] } : b)) };
    const calls: string[] = [];
    const lines: string[] = [];
    const o = await runCatalogue(seeded, { runCase: fake({ 'raft.a@y.yaml#8': 'invalid', 'lock.b@y.yaml': 'invalid' }, calls), log: (l) => lines.push(l) });
    assert.deepEqual(calls, ['-@x.yaml#8', '-@x.yaml#5', '-@y.yaml#8', '-@y.yaml#5', '-@y.yaml', 'raft.a@x.yaml#8', 'raft.a@x.yaml#5', 'raft.a@y.yaml#8', 'lock.b@y.yaml']);
    assert.equal(o.exitCode, 0);
    assert.ok(lines.some((l) => /^caught  raft\.a +y#8 /.test(l)), lines.join('\n'));
    assert.deepEqual(parseCatalogue(`bugs:\n  - { failpoint: raft.a, bug: x, experiments: [x.yaml], seeds: [3, 4] }\n`, FILE).bugs[0]?.seeds, [3, 4]);
    assert.match(catalogueError(`bugs:\n  - { failpoint: raft.a, bug: x, experiments: [x.yaml], seeds: [-1] }\n`), /bugs\.0\.seeds\.0/);
  });

  it('runs only the bugs asked for, and their experiments clean', async () => {
    const calls: string[] = [];
    const o = await runCatalogue(c, { runCase: fake({ 'lock.b@y.yaml': 'invalid' }, calls), log: () => {}, only: ['lock.b'] });
    assert.deepEqual(calls, ['-@y.yaml', 'lock.b@y.yaml']);
    assert.equal(o.exitCode, 0);
  });
});
