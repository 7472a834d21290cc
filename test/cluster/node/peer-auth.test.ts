/**
 * Cluster authentication (`peer-auth.ts`): loading the secret, the challenge-response of a peer
 * stream, and — against one in-process node with a secret — the stream's own checks: the
 * sender's id, the line cap, long messages joined from `part` lines (`peer-stream.ts`).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CHALLENGE_TTL_MS, loadClusterSecret, MAX_OUTSTANDING_CHALLENGES, PeerAuthenticator, peerHeaders, randomClusterSecret } from '../../../cluster/node/peer-auth.js';
import { MAX_PEER_LINE_CHARS, wireLines } from '../../../cluster/node/peer-stream.js';
import { startNode, type RunningNode } from '../../../cluster/node/node.js';
import { freePorts } from '../../../cluster/local/node-process.js';
import { eventually } from '../../support/eventually.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');

describe('cluster/node: peer authentication', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-peer-auth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('loadClusterSecret', () => {
    it('reads a 0600 file (a trailing newline ignored), else $DSYNC_CLUSTER_SECRET, else null', () => {
      const file = join(dir, 'secret');
      writeFileSync(file, 'sixteen bytes or more\n', { mode: 0o600 });
      assert.equal(loadClusterSecret(file, {})?.toString(), 'sixteen bytes or more');
      assert.equal(loadClusterSecret(undefined, { DSYNC_CLUSTER_SECRET: 'from the environment' })?.toString(), 'from the environment');
      assert.equal(loadClusterSecret(undefined, {}), null);
      assert.equal(loadClusterSecret(undefined, { DSYNC_CLUSTER_SECRET: '' }), null);
      assert.match(randomClusterSecret(), /^[0-9a-f]{64}$/);
    });

    it('refuses, naming the flag or variable: a file others may read, a missing file, a short secret', () => {
      const file = join(dir, 'secret');
      writeFileSync(file, 'sixteen bytes or more', { mode: 0o644 });
      chmodSync(file, 0o644);
      assert.throws(() => loadClusterSecret(file, {}), /^RangeError: --cluster-secret-file .*secret: the file may be read by others \(mode 644\); chmod 600 it$/);
      assert.throws(() => loadClusterSecret(join(dir, 'nope'), {}), /--cluster-secret-file .*nope: cannot read it: ENOENT/);
      assert.throws(() => loadClusterSecret(undefined, { DSYNC_CLUSTER_SECRET: 'short' }), /^RangeError: DSYNC_CLUSTER_SECRET: the secret is 5 bytes; at least 16 are needed/);
    });
  });

  describe('PeerAuthenticator', () => {
    const members = ['n1', 'n2', 'n3'];

    it("accepts a member's proof over a fresh challenge once", () => {
      const auth = new PeerAuthenticator(SECRET, 'n1', members);
      const nonce = auth.challenge();
      const headers = peerHeaders(SECRET, 'n2', 'n1', nonce);
      assert.deepEqual(auth.check(headers), { ok: true, from: 'n2' });
      assert.deepEqual(auth.check(headers), { ok: false, message: 'x-dsync-nonce: unknown, used or expired challenge' }, 'a replay');
    });

    it('refuses a wrong secret, a proof for another sender or receiver, no proof, a non-member, itself, an expired challenge', () => {
      let now = 0;
      const auth = new PeerAuthenticator(SECRET, 'n1', members, () => now);
      const fail = (headers: Record<string, string>): string => {
        const r = auth.check(headers);
        assert.equal(r.ok, false);
        return r.ok ? '' : r.message;
      };
      assert.match(fail(peerHeaders(Buffer.from('another secret of 32 characters!'), 'n2', 'n1', auth.challenge())), /wrong proof of the cluster secret/);
      const nonce = auth.challenge();
      assert.match(fail({ ...peerHeaders(SECRET, 'n3', 'n1', nonce), 'x-dsync-from': 'n2' }), /wrong proof/, "n3's proof presented as n2");
      assert.match(fail(peerHeaders(SECRET, 'n2', 'n3', auth.challenge())), /wrong proof/, 'a proof meant for n3');
      assert.match(fail({ 'x-dsync-from': 'n2' }), /needs proof of the cluster secret/);
      assert.match(fail({}), /needs the x-dsync-from header/);
      assert.match(fail(peerHeaders(SECRET, 'n9', 'n1', auth.challenge())), /"n9" is not another member/);
      assert.match(fail(peerHeaders(SECRET, 'n1', 'n1', auth.challenge())), /"n1" is not another member/);
      const old = auth.challenge();
      now += CHALLENGE_TTL_MS + 1;
      assert.match(fail(peerHeaders(SECRET, 'n2', 'n1', old)), /unknown, used or expired/);
    });

    it('keeps at most MAX_OUTSTANDING_CHALLENGES, forgetting the oldest', () => {
      const auth = new PeerAuthenticator(SECRET, 'n1', members, () => 0);
      const first = auth.challenge();
      for (let i = 0; i < MAX_OUTSTANDING_CHALLENGES; i++) auth.challenge();
      const last = auth.challenge();
      assert.equal(auth.check(peerHeaders(SECRET, 'n2', 'n1', first)).ok, false);
      assert.equal(auth.check(peerHeaders(SECRET, 'n2', 'n1', last)).ok, true);
    });

    it('without a secret (--insecure) asks for no proof, but still for another member in x-dsync-from', () => {
      const auth = new PeerAuthenticator(null, 'n1', members);
      assert.deepEqual(auth.check({ 'x-dsync-from': 'n2' }), { ok: true, from: 'n2' });
      assert.equal(auth.check({ 'x-dsync-from': 'n7' }).ok, false);
    });
  });

  it('wireLines: a long message travels as part lines that join back to it', () => {
    assert.deepEqual(wireLines('{"a":1}'), ['{"a":1}']);
    const json = JSON.stringify({ type: 'snapshot', data: 'x"\\y'.repeat(10) });
    const lines = wireLines(json, 7);
    assert.ok(lines.length > 5);
    const parts = lines.map((l) => JSON.parse(l) as { type: string; data: string; last?: boolean });
    assert.ok(parts.every((p, i) => p.type === 'part' && (p.last === true) === (i === parts.length - 1)));
    assert.equal(parts.map((p) => p.data).join(''), json);
  });

  describe('a node with a secret', function () {
    this.timeout(20_000);
    let node: RunningNode | undefined;
    afterEach(async () => {
      await node?.stop();
      node = undefined;
    });

    async function start(): Promise<RunningNode> {
      const [dead] = await freePorts(1);
      node = await startNode({
        id: 'n1',
        listen: '127.0.0.1:0',
        peers: new Map([['n1', '127.0.0.1:0'], ['n2', `127.0.0.1:${dead}`]]),
        dataDir: join(dir, 'n1'),
        log: pino({ level: 'silent' }),
        tickMs: 10,
        clusterSecret: SECRET,
      });
      return node;
    }

    async function send(n: RunningNode, body: string): Promise<{ status: number; body: Record<string, unknown> | null }> {
      const nonce = ((await (await fetch(`http://${n.address}/internal/raft/challenge`)).json()) as { nonce: string }).nonce;
      const res = await fetch(`http://${n.address}/internal/raft/stream`, { method: 'POST', headers: peerHeaders(SECRET, 'n2', 'n1', nonce), body });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
    }

    it('refuses a line over the cap with 413 naming it, takes a message joined from part lines', async () => {
      const n = await start();
      const long = await send(n, `${'x'.repeat(MAX_PEER_LINE_CHARS + 10)}\n`);
      assert.equal(long.status, 413);
      assert.deepEqual(long.body, { error: 'too-large', message: `a raft message line is over the limit of ${MAX_PEER_LINE_CHARS} characters` });
      // A vote at term 7 in three parts: the node takes it (its term moves to 7).
      const vote = JSON.stringify({ type: 'vote', from: 'n2', to: 'n1', term: 7, pre: false, lastIndex: 100, lastTerm: 6 });
      const ok = await send(n, `${wireLines(vote, 30).join('\n')}\n`);
      assert.equal(ok.status, 204, JSON.stringify(ok.body));
      await eventually('term 7', () => n.raft.status().term >= 7);
    });

    it('refuses a message to another node (400) and unknown fields or unsafe numbers (400), naming the field', async () => {
      const n = await start();
      const to = await send(n, `${JSON.stringify({ type: 'vote', from: 'n2', to: 'n3', term: 1, pre: true, lastIndex: 0, lastTerm: 0 })}\n`);
      assert.equal(to.status, 400);
      assert.equal(to.body?.['message'], 'a raft message to "n3" sent to "n1"');
      const extra = await send(n, `${JSON.stringify({ type: 'vote', from: 'n2', to: 'n1', term: 1, pre: true, lastIndex: 0, lastTerm: 0, admin: true })}\n`);
      assert.equal(extra.status, 400);
      assert.match(String(extra.body?.['message']), /^raft message: admin: unknown field/);
      const huge = await send(n, `${JSON.stringify({ type: 'vote', from: 'n2', to: 'n1', term: 2 ** 60, pre: true, lastIndex: 0, lastTerm: 0 })}\n`);
      assert.equal(huge.status, 400);
      assert.match(String(huge.body?.['message']), /^raft message: term: /);
      const cases: [string, RegExp][] = [
        ['{"type": "append", "from": "n2"}', /^raft message: to: /],
        ['{"type": "vote"', /not valid JSON/],
        ['[1]', /^raft message: /],
        ['{"type":"append","from":"n2","to":"n1","term":9,"prevIndex":1,"prevTerm":1,"entries":[{"index":5,"term":9,"data":null}],"commit":0}', /entries must follow prevIndex/],
        ['{"type":"append","from":"n2","to":"n1","term":9,"prevIndex":0,"prevTerm":0,"entries":[{"index":1,"term":10,"data":null}],"commit":0}', /no entry may be of a later term/],
        ['{"type":"part","data":1}', /^raft message part: data: /],
      ];
      for (const [line, message] of cases) {
        const r = await send(n, `${line}\n`);
        assert.equal(r.status, 400, line);
        assert.equal(r.body?.['error'], 'bad-request');
        assert.match(String(r.body?.['message']), message, line);
      }
      assert.equal(n.raft.status().term <= 1, true, 'nothing refused reached Raft');
    });
  });
});
