/**
 * The node fuzz test: 10,000 seeded random requests (see `fuzz-requests.ts`) against a running
 * 3-node cluster (three node processes), spread over its nodes. Every answer must be a status
 * with, for an error, a JSON body naming it; no 5xx but 503 `unavailable`. Afterwards the cluster
 * has one leader, every node answers `/health`, no node restarted (same pids, none exited), none
 * logged a fatal error, and every replica's lock state is the same (the digest each node logs per
 * applied entry, compared at one index after a barrier). The seed is printed; set
 * `DSYNC_FUZZ_SEED` to replay it (`DSYNC_FUZZ_COUNT` changes the count).
 *
 * Known findings in code this branch does not own are reported, not failed (see KNOWN).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { parseHostPort } from '../../../cluster/node/node.js';
import { APPLIED_DIGEST_MSG } from '../../../cluster/node/state-digest.js';
import { eventually } from '../../support/eventually.js';
import { RequestFuzzer, type FuzzRequest } from './fuzz-requests.js';
import { callJson } from '../../support/http-json.js';

const COUNT = Number(process.env['DSYNC_FUZZ_COUNT'] ?? 10_000);
const SEED = process.env['DSYNC_FUZZ_SEED'] !== undefined ? Number(process.env['DSYNC_FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31);
const CONCURRENCY = 24;
/** Longest any one request may take: a blocking acquire waits at most 200 ms + the request timeout. */
const REQUEST_MS = 15_000;

/** What came back for one request. */
interface Answer {
  /** HTTP status, or 0 when the connection closed without a reply. */
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  readonly error?: string;
}

/**
 * Bugs the fuzzer finds in code another branch owns (issue 15's lock-layer list), matched by
 * status and body: counted and printed, not failed.
 */
const KNOWN: readonly { readonly id: string; readonly status: number; readonly body: RegExp }[] = [
  // Empty: the one it found (release/renew reusing a queued acquire's session and seq answered
  // 500 "acquire of ... still queued") is fixed — such a reuse is now a definite 409.
];

function dechunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) return out;
    const size = parseInt(s.slice(i, nl), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += s.slice(nl + 2, nl + 2 + size);
    i = nl + 2 + size + 2;
  }
}

/** Sends `req` on a connection of its own and reads until the server closes it. */
function send(address: string, req: FuzzRequest): Promise<Answer> {
  const { host, port } = parseHostPort(address);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = connect(port, host);
    socket.setTimeout(REQUEST_MS, () => {
      error = 'client timeout';
      socket.destroy();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e) => (error ??= e.message));
    // No half-close: the request asks the server to close the connection after its answer.
    socket.on('connect', () => socket.write(req.bytes));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const sep = text.indexOf('\r\n\r\n');
      const head = sep < 0 ? text : text.slice(0, sep);
      const raw = sep < 0 ? '' : text.slice(sep + 4);
      const body = /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(raw) : raw;
      resolve({ status: m ? Number(m[1]) : 0, body, ms: performance.now() - t0, ...(error !== undefined ? { error } : {}) });
    });
  });
}

const logLines = (n: NodeProcess): Record<string, unknown>[] =>
  readFileSync(n.spec.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const call = (node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => callJson(node.spec.address, method, path, body);

describe('cluster/node: fuzzed requests against three node processes', function () {
  this.timeout(300_000);
  let dir: string;
  let cluster: LocalCluster | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-fuzz-'));
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10', '--audit-every', '1'] });
    await cluster.agreedLeader();
  });
  after(async () => {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${COUNT} seeded random requests: no crash, no 5xx but 503 unavailable, JSON errors, replicas identical`, async () => {
    const c = cluster as LocalCluster;
    console.log(`      fuzz seed ${SEED} (replay: DSYNC_FUZZ_SEED=${SEED} npx mocha --no-config dist/test/cluster/node/fuzz.test.js)`);
    const pids = c.nodes.map((n) => n.pid);
    const fuzzer = new RequestFuzzer(SEED);
    const requests = Array.from({ length: COUNT }, (_, i) => {
      const node = c.nodes[i % c.nodes.length] as NodeProcess;
      return { node, req: fuzzer.next(node.spec.address) };
    });
    const byStatus = new Map<number, number>();
    const byKind = new Map<string, number>();
    const known = new Map<string, { count: number; example: string }>();
    const failures: string[] = [];
    const t0 = performance.now();
    let next = 0;
    let slowest = 0;
    const slow: string[] = [];
    const worker = async (): Promise<void> => {
      for (let i = next++; i < requests.length; i = next++) {
        const { node, req } = requests[i] as (typeof requests)[number];
        const a = await send(node.spec.address, req);
        slowest = Math.max(slowest, a.ms);
        if (a.ms > 5000) slow.push(`#${i} ${req.kind} ${JSON.stringify(req.bytes.toString('latin1').slice(0, 160))} → ${a.status} after ${Math.round(a.ms)} ms${a.error !== undefined ? ` (${a.error})` : ''}`);
        byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
        byKind.set(req.kind, (byKind.get(req.kind) ?? 0) + 1);
        const what = `#${i} ${req.kind} ${JSON.stringify(req.bytes.toString('latin1').slice(0, 300))} → ${a.status} ${a.body.slice(0, 300)}${a.error !== undefined ? ` (${a.error})` : ''}`;
        const k = KNOWN.find((x) => x.status === a.status && x.body.test(a.body));
        if (k !== undefined) {
          const seen = known.get(k.id) ?? { count: 0, example: what };
          known.set(k.id, { ...seen, count: seen.count + 1 });
          continue;
        }
        if (a.status === 0) {
          if (!req.mayReset) failures.push(`no reply: ${what}`);
          continue;
        }
        if (a.status >= 500 && !(a.status === 503 && /"error":"unavailable"/.test(a.body))) failures.push(`5xx: ${what}`);
        if (a.status >= 400 && req.method !== 'HEAD') {
          let body: unknown;
          try {
            body = JSON.parse(a.body);
          } catch {
            body = undefined;
          }
          const error = (body as { error?: unknown } | undefined)?.error;
          if (typeof error !== 'string' || typeof (body as { message?: unknown }).message !== 'string') failures.push(`error without a JSON {error, message} body: ${what}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const figures = [...byStatus.entries()].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s === 0 ? 'closed' : s}: ${n}`).join(', ');
    console.log(`      ${COUNT} requests in ${seconds.toFixed(1)} s (slowest ${Math.round(slowest)} ms); by status: ${figures}`);
    console.log(`      by kind: ${[...byKind.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (slow.length > 0) console.log(`      ${slow.length} answered after more than 5 s, e.g. ${slow[0]}`);
    for (const [id, k] of known) console.log(`      KNOWN FINDING ${id}: ${k.count} time(s), e.g. ${k.example}`);
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers (seed ${SEED})`);

    // The cluster afterwards: same processes, one leader, every node healthy, no fatal error.
    assert.deepEqual(c.nodes.map((n) => n.pid), pids, 'no node restarted');
    assert.ok(c.nodes.every((n) => n.running), 'every node still runs');
    const leader = await c.agreedLeader();
    for (const n of c.nodes) assert.equal((await call(n, 'GET', '/health')).status, 200, `${n.spec.id} answers /health`);
    const roles = await Promise.all(c.nodes.map(async (n) => (await call(n, 'GET', '/status')).body['role']));
    assert.equal(roles.filter((r) => r === 'leader').length, 1, `one leader: ${roles.join(' ')}`);
    for (const n of c.nodes) {
      const fatal = logLines(n).filter((l) => (l['level'] as number) >= 60 || l['msg'] === 'a committed entry could not be applied; skipped' || l['msg'] === 'request failed');
      assert.deepEqual(fatal.slice(0, 3), [], `${n.spec.id} logged no fatal error, skipped entry or failed request`);
    }

    // Replicas: a barrier through the leader, then the same state digest on every node at its index.
    const a = await call(leader, 'POST', '/lock/acquire', { name: 'fuzz-barrier', client: 'prober', ttlMs: 60_000 });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal((await call(leader, 'POST', '/lock/release', { name: 'fuzz-barrier', client: 'prober', token: a.body['token'], secret: a.body['secret'] })).status, 200);
    const commit = (await call(leader, 'GET', '/status')).body['commitIndex'] as number;
    await eventually('every node applied the barrier', async () => (await Promise.all(c.nodes.map((n) => call(n, 'GET', '/status')))).every((s) => (s.body['lastApplied'] as number) >= commit));
    const digestsAt = (): unknown[] => c.nodes.map((n) => logLines(n).find((l) => l['msg'] === APPLIED_DIGEST_MSG && l['index'] === commit)?.['state']);
    const digests = await eventually('every node logged its digest', () => (digestsAt().every((d) => d !== undefined) ? digestsAt() : undefined), 5000);
    assert.ok(digests.every((d) => d === digests[0]), `the same lock state on every node at index ${commit}: ${digests.join(' ')}`);
    console.log(`      afterwards: pids unchanged, leader ${leader.spec.id}, every node healthy, digests equal at index ${commit}`);
  });
});
