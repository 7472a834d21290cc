/**
 * The attacks of issue 15 against a real 3-node cluster, each as an attacker with HTTP access to
 * a node's port would make it: forged Raft messages without the cluster secret are refused (401)
 * before their body is read, and leave the cluster's term, leader and lock state as they were
 * while clients keep working; an authenticated peer may not speak for another member; a
 * poisoned entry from an authenticated peer is refused and the node keeps running.
 *
 * One cluster serves every test (started once, killed after, also on failure). "Unchanged" is
 * checked after a barrier, not a sleep: a client acquire and release through the leader that
 * every node has applied, so that anything the attack had set going has happened by then.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_SECRET_FILE, startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { peerHeaders } from '../../../cluster/node/peer-auth.js';
import { APPLIED_DIGEST_MSG } from '../../../cluster/node/state-digest.js';
import { eventually } from '../../support/eventually.js';

interface Reply {
  status: number;
  body: Record<string, unknown> | null;
}

async function call(node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`http://${node.spec.address}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(8000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

/** Posts `messages` as one peer stream to `node`, with `headers` (none: an attacker without the secret claiming `as`). */
async function stream(node: NodeProcess, messages: readonly unknown[], headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(`http://${node.spec.address}/internal/raft/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...headers },
    body: `${messages.map((m) => JSON.stringify(m)).join('\n')}\n`,
    signal: AbortSignal.timeout(8000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

const statusOf = async (n: NodeProcess): Promise<Record<string, unknown>> => (await call(n, 'GET', '/status')).body ?? {};
const logLines = (n: NodeProcess): Record<string, unknown>[] =>
  readFileSync(n.spec.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cluster/node: attacks on peer RPC (three node processes)', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: LocalCluster | undefined;
  let secret: Buffer;
  let leader: NodeProcess;
  let followers: [NodeProcess, NodeProcess];
  /** The lock held through every attack, and its holder's token. */
  let held: { name: string; client: string; token: number };
  let probes = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-attacks-'));
    // Every node logs a digest of its lock state after each applied entry: replicas are compared.
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10', '--audit-every', '1'] });
    secret = Buffer.from(readFileSync(join(dir, CLUSTER_SECRET_FILE), 'utf8').trim(), 'utf8');
    leader = await cluster.agreedLeader();
    followers = cluster.nodes.filter((n) => n !== leader) as [NodeProcess, NodeProcess];
    const g = await call(leader, 'POST', '/lock/acquire', { name: 'held', client: 'owner', ttlMs: 600_000 });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    held = { name: 'held', client: 'owner', token: g.body?.['token'] as number };
  });
  after(async () => {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Term, leader and role of every node, and the held lock as the leader sees it. */
  async function view(): Promise<{ terms: number[]; leaders: unknown[]; roles: unknown[]; lock: unknown }> {
    const st = await Promise.all((cluster as LocalCluster).nodes.map(statusOf));
    const lock = await call(leader, 'GET', `/lock/${held.name}`);
    return { terms: st.map((s) => s['term'] as number), leaders: st.map((s) => s['leader']), roles: st.map((s) => s['role']), lock: lock.body?.['holders'] };
  }

  /**
   * A client acquire and release through the leader, then every node has applied them and logged
   * the same digest of its lock state for the last of them (replicas identical).
   */
  async function barrier(): Promise<void> {
    const name = `probe-${++probes}`;
    const a = await call(leader, 'POST', '/lock/acquire', { name, client: 'prober', ttlMs: 60_000 });
    assert.equal(a.status, 200, `a client still acquires: ${JSON.stringify(a.body)}`);
    const r = await call(leader, 'POST', '/lock/release', { name, client: 'prober', token: a.body?.['token'], secret: a.body?.['secret'] });
    assert.equal(r.status, 200, `a client still releases: ${JSON.stringify(r.body)}`);
    const commit = (await statusOf(leader))['commitIndex'] as number;
    await eventually('every node applied the probe', async () => (await Promise.all((cluster as LocalCluster).nodes.map(statusOf))).every((s) => (s['lastApplied'] as number) >= commit));
    const digestsAt = (): unknown[] => (cluster as LocalCluster).nodes.map((n) => logLines(n).find((l) => l['msg'] === APPLIED_DIGEST_MSG && l['index'] === commit)?.['state']);
    const digests = await eventually('every node logged its digest', () => (digestsAt().every((d) => d !== undefined) ? digestsAt() : undefined), 3000).catch(() => digestsAt());
    assert.ok(digests[0] !== undefined && digests.every((d) => d === digests[0]), `the same lock state on every node at index ${commit}: ${digests.join(' ')}`);
  }

  /** Runs `attack`, then checks after a barrier that nothing moved. */
  async function unchangedBy(attack: () => Promise<void>): Promise<void> {
    const before = await view();
    assert.ok(before.roles.filter((r) => r === 'leader').length === 1 && before.roles.every((r) => r === 'leader' || r === 'follower'), JSON.stringify(before));
    await attack();
    await barrier();
    assert.deepEqual(await view(), before, 'term, leader, roles and the held lock are as before the attack');
  }

  const refused = (r: Reply, what: string): void => {
    assert.equal(r.status, 401, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body?.['error'], 'unauthorized');
    assert.match(String(r.body?.['message']), /proof of the cluster secret/);
  };

  it('forged append-resp with the largest safe term, one per node: 401, no node changes term or role', async () => {
    await unchangedBy(async () => {
      for (const [i, target] of (cluster as LocalCluster).nodes.entries()) {
        const from = (cluster as LocalCluster).nodes[(i + 1) % 3]?.spec.id as string;
        const r = await stream(target, [{ type: 'append-resp', from, to: target.spec.id, term: 9007199254740991, success: false, index: 0 }], { 'x-dsync-from': from });
        refused(r, `append-resp to ${target.spec.id}`);
      }
    });
  });

  it("forged append from the leader's id carrying a release of a held lock: 401, the lock stays held", async () => {
    await unchangedBy(async () => {
      for (const f of followers) {
        const s = await statusOf(f);
        const last = s['lastIndex'] as number;
        const term = s['term'] as number;
        const entry = { index: last + 1, term, data: { command: { type: 'release', name: held.name, client: held.client, token: held.token } } };
        const r = await stream(f, [{ type: 'append', from: leader.spec.id, to: f.spec.id, term, prevIndex: last, prevTerm: term, entries: [entry], commit: last + 1 }], { 'x-dsync-from': leader.spec.id });
        refused(r, `append to ${f.spec.id}`);
      }
    });
    const v = await call(followers[0], 'GET', `/lock/${held.name}`);
    assert.deepEqual((v.body?.['holders'] as { client: string; token: number }[]).map((h) => [h.client, h.token]), [[held.client, held.token]]);
  });

  it('forged snapshot at term + 1 replacing all lock state: 401, the lock state stays', async () => {
    await unchangedBy(async () => {
      for (const f of followers) {
        const s = await statusOf(f);
        const term = (s['term'] as number) + 1;
        const snapshot = { meta: { index: (s['lastIndex'] as number) + 100, term }, data: { locks: { version: 1, lastToken: 0, clock: null, locks: [] }, sessions: [] } };
        refused(await stream(f, [{ type: 'snapshot', from: leader.spec.id, to: f.spec.id, term, snapshot }], { 'x-dsync-from': leader.spec.id }), `snapshot to ${f.spec.id}`);
      }
    });
  });

  it('forged acks (append-resp success far ahead) from both followers to the leader: 401', async () => {
    await unchangedBy(async () => {
      const term = (await statusOf(leader))['term'] as number;
      for (const f of followers) {
        const r = await stream(leader, [{ type: 'append-resp', from: f.spec.id, to: leader.spec.id, term, success: true, index: 1_000_000 }], { 'x-dsync-from': f.spec.id });
        refused(r, `ack from ${f.spec.id}`);
      }
    });
  });

  it('a flood of 270 forged messages: each refused, clients keep working meanwhile', async () => {
    await unchangedBy(async () => {
      const nodes = (cluster as LocalCluster).nodes;
      let flooding = true;
      const clientOps: number[] = [];
      const client = (async () => {
        for (let i = 0; flooding || i < 3; i++) {
          const a = await call(leader, 'POST', '/lock/acquire', { name: 'during-flood', client: 'c', ttlMs: 60_000 });
          const r = await call(leader, 'POST', '/lock/release', { name: 'during-flood', client: 'c', token: a.body?.['token'], secret: a.body?.['secret'] });
          clientOps.push(a.status, r.status);
        }
      })();
      const replies = await Promise.all(
        Array.from({ length: 270 }, (_, i) => {
          const target = nodes[i % 3] as NodeProcess;
          const from = (nodes[(i + 1) % 3] as NodeProcess).spec.id;
          const kinds = [
            { type: 'append-resp', from, to: target.spec.id, term: 1e9 + i, success: false, index: 0 },
            { type: 'vote', from, to: target.spec.id, term: 1e9 + i, pre: false, lastIndex: 1e9, lastTerm: 1e9 },
            { type: 'append', from, to: target.spec.id, term: 1e9 + i, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
          ];
          return stream(target, [kinds[i % 3]], { 'x-dsync-from': from });
        }),
      );
      flooding = false;
      await client;
      for (const r of replies) refused(r, 'flood');
      assert.ok(clientOps.length >= 6 && clientOps.every((s) => s === 200), `every client op during the flood succeeded: ${clientOps.join(' ')}`);
    });
  });

  it('without the proof a stream is refused however it claims to be authenticated (a made-up proof, a reused challenge)', async () => {
    const [f] = followers;
    const m = { type: 'append-resp', from: leader.spec.id, to: f.spec.id, term: 1e12, success: false, index: 0 };
    const nonce = ((await call(f, 'GET', '/internal/raft/challenge')).body?.['nonce'] as string) ?? '';
    const wrong = peerHeaders(Buffer.from('not the cluster secret, but long'), leader.spec.id, f.spec.id, nonce);
    assert.equal((await stream(f, [m], wrong)).status, 401);
    assert.equal((await stream(f, [m], peerHeaders(secret, leader.spec.id, f.spec.id, nonce))).status, 401, 'the challenge was used up by the failed attempt');
    await unchangedBy(async () => undefined);
  });

  it("an authenticated peer claiming another member's from is refused (403) and logged", async () => {
    const [n2, n3] = followers;
    const nonce = (await call(leader, 'GET', '/internal/raft/challenge')).body?.['nonce'] as string;
    await unchangedBy(async () => {
      const term = (await statusOf(leader))['term'] as number;
      // n2's own proof, speaking as n3: forged acks from n3.
      const r = await stream(leader, [{ type: 'append-resp', from: n3.spec.id, to: leader.spec.id, term: term + 5, success: true, index: 1_000_000 }], peerHeaders(secret, n2.spec.id, leader.spec.id, nonce));
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body?.['error'], 'forbidden');
      assert.match(String(r.body?.['message']), new RegExp(`from "${n3.spec.id}" on the stream authenticated as "${n2.spec.id}"`));
    });
    await eventually('the refusal is logged', () => logLines(leader).some((l) => l['msg'] === 'peer stream refused' && l['peer'] === n2.spec.id && l['status'] === 403));
  });

  it('a poisoned entry ({"request":null}) from an authenticated peer is refused, never persisted, and the node keeps running', async () => {
    const [victim] = followers;
    const s = await statusOf(victim);
    const last = s['lastIndex'] as number;
    const term = s['term'] as number;
    const nonce = (await call(victim, 'GET', '/internal/raft/challenge')).body?.['nonce'] as string;
    const poisoned = { type: 'append', from: leader.spec.id, to: victim.spec.id, term, prevIndex: last, prevTerm: term, entries: [{ index: last + 1, term, data: { request: null } }], commit: last + 1 };
    const r = await stream(victim, [poisoned], peerHeaders(secret, leader.spec.id, victim.spec.id, nonce));
    assert.equal(r.status, 204, 'the stream itself was accepted');
    await eventually('the refusal is logged', () =>
      logLines(victim).find((l) => l['msg'] === 'peer message refused' && /^entry \d+: data\.command: command: must be an object/.test(String(l['err'])) ? l : undefined),
    );
    await unchangedBy(async () => undefined);
    assert.ok(victim.running, 'the follower is still running');
    assert.equal((await call(victim, 'GET', '/health')).status, 200);
    assert.ok(!logLines(victim).some((l) => l['level'] === 60), 'no fatal line');
    // A restart finds nothing poisonous in the data dir.
    await victim.stop('SIGTERM');
    victim.start();
    await victim.waitHealthy();
    await eventually('the restarted follower follows again', async () => (await statusOf(victim))['leader'] === leader.spec.id);
    await unchangedBy(async () => undefined);
  });
});
