/**
 * Failpoints (`cluster/failpoints.ts`): parsing `DSYNC_FAILPOINTS`, a node refusing an unknown
 * name, saying loudly which are on (log and `/status`), node processes inheriting them, and the
 * planted bugs of the node's lock API (the Raft and lock-table ones are tested beside their code:
 * `raft/core.test.ts`, `raft/storage.test.ts`, `lock/lock-table.test.ts`, `lock/sessions.test.ts`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { enabledFailpoints, FAILPOINT_NAMES, FAILPOINTS, FP, parseFailpoints, setFailpointsForTest } from '../../cluster/failpoints.js';
import { startNode } from '../../cluster/node/node.js';
import { Forwarder } from '../../cluster/node/forwarder.js';
import { freePorts, startLocalCluster } from '../../cluster/local/node-process.js';
import { LockMachine } from '../../cluster/lock/lock-machine.js';
import { LockService, type LockRaft } from '../../cluster/lock/lock-service.js';
import { lockRoutes } from '../../cluster/lock/lock-routes.js';
import { NotLeaderError } from '../../cluster/raft/raft-node.js';
import { main } from '../../harness/cli.js';
import { TEST_AIDS_ENV } from '../../cluster/test-aids.js';
import { dsyncBin } from '../support/paths.js';
import { eventually } from '../support/eventually.js';
import { withFailpoints } from '../support/failpoints.js';

const listen = (server: Server): Promise<string> =>
  new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? `127.0.0.1:${a.port}` : '');
    });
  });
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('failpoints', () => {
  describe('DSYNC_FAILPOINTS and the switches', () => {
    it('none: unset, empty, blanks and stray commas', () => {
      for (const text of [undefined, '', ' ', ',', ' , ,']) assert.deepEqual(parseFailpoints(text), [], String(text));
    });

    it('names, trimmed, once each, in the order given', () => {
      assert.deepEqual(parseFailpoints(' lock.stale-token,raft.vote-ignores-log , lock.stale-token'), ['lock.stale-token', 'raft.vote-ignores-log']);
    });

    it('an unknown name is refused with a one-line error naming it and listing the known ones', () => {
      assert.throws(
        () => parseFailpoints('raft.vote-ignores-log,raft.comit-earlier-term'),
        (e: Error) => {
          assert.ok(e instanceof RangeError);
          assert.match(e.message, /^DSYNC_FAILPOINTS: unknown failpoint "raft\.comit-earlier-term" \(known: raft\.commit-earlier-term, /);
          for (const name of FAILPOINT_NAMES) assert.ok(e.message.includes(name), name);
          assert.ok(!e.message.includes('\n'));
          return true;
        },
      );
    });

    it('knows the nineteen planted bugs, each with a line saying what it breaks', () => {
      assert.deepEqual([...FAILPOINT_NAMES].sort(), [
        'cache.failover-no-grace',
        'cache.serve-after-lease',
        'cache.skip-invalidation-acks',
        'lock.exclusive-over-shared',
        'lock.expire-by-local-clock',
        'lock.grant-ignores-waiters',
        'lock.grant-without-quorum',
        'lock.read-without-confirm',
        'lock.reuse-token',
        'lock.stale-token',
        'queue.ack-before-commit',
        'queue.ack-on-leader-only',
        'queue.expired-lease-drops',
        'raft.apply-uncommitted',
        'raft.commit-earlier-term',
        'raft.commit-without-quorum',
        'raft.skip-hard-state-sync',
        'raft.vote-ignores-log',
        'session.no-dedupe',
      ]);
      for (const [name, what] of FAILPOINTS) assert.ok(what.length > 20 && !what.includes('\n'), name);
    });

    it('all off in the test process; setFailpointsForTest switches exactly the names given and refuses unknown ones, changing nothing', () => {
      assert.deepEqual(enabledFailpoints(), []);
      const before = setFailpointsForTest(['session.no-dedupe', 'lock.reuse-token']);
      try {
        assert.deepEqual(before, []);
        assert.deepEqual(enabledFailpoints(), ['lock.reuse-token', 'session.no-dedupe'], "in FAILPOINTS' order");
        assert.equal(FP['session.no-dedupe'], true);
        assert.equal(FP['lock.stale-token'], false);
        assert.throws(() => setFailpointsForTest(['lock.stale-token', 'nope']), /unknown failpoint "nope"/);
        assert.deepEqual(enabledFailpoints(), ['lock.reuse-token', 'session.no-dedupe']);
      } finally {
        setFailpointsForTest(before);
      }
      assert.deepEqual(enabledFailpoints(), []);
    });
  });

  describe('a node', function () {
    this.timeout(30_000);
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'dsync-failpoints-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const dsync = (args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [dsyncBin, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });

    it('dsync node refuses an unknown failpoint: exit 2 and one line naming it; other commands still run', async () => {
      const r = await dsync(['node', '--id', 'n1', '--listen', '127.0.0.1:0', '--peers', 'n1=127.0.0.1:7001', '--data', join(dir, 'n1')], { DSYNC_FAILPOINTS: 'lock.stale-token,lock.stail-token' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^dsync node: DSYNC_FAILPOINTS: unknown failpoint "lock\.stail-token" \(known: [^\n]*lock\.stale-token[^\n]*\)\n$/);
      assert.equal(r.stdout, '', 'it logged nothing: it never started');
      const version = await dsync(['--version'], { DSYNC_FAILPOINTS: 'lock.stail-token' });
      assert.equal(version.code, 0, version.stderr);
    });

    const nodeHelp = async (testAids: boolean): Promise<string> => {
      const saved = process.env[TEST_AIDS_ENV];
      if (testAids) process.env[TEST_AIDS_ENV] = '1';
      else delete process.env[TEST_AIDS_ENV];
      try {
        const lines: string[] = [];
        const code = await main(['node', '--help'], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
        assert.equal(code, 0);
        return lines.join('\n');
      } finally {
        if (saved === undefined) delete process.env[TEST_AIDS_ENV];
        else process.env[TEST_AIDS_ENV] = saved;
      }
    };

    it('dsync node --help lists neither the failpoints nor --unsafe-grant-without-quorum; with DSYNC_TEST_AIDS=1 the flag is listed', async () => {
      const help = await nodeHelp(false);
      assert.ok(!/unsafe/i.test(help), help);
      assert.match(help, /--cluster-secret-file <path>/);
      assert.match(help, /--insecure/);
      for (const name of FAILPOINT_NAMES) assert.ok(!help.includes(name), name);
      assert.ok(!/failpoint/i.test(help));
      assert.match(await nodeHelp(true), /--unsafe-grant-without-quorum +TEST AID/);
    });

    it('dsync node refuses every test aid without DSYNC_TEST_AIDS=1: exit 2, one line naming it', async () => {
      const args = ['node', '--id', 'n1', '--listen', '127.0.0.1:0', '--peers', 'n1=127.0.0.1:7001', '--data', join(dir, 'n1'), '--insecure'];
      const cases: [readonly string[], Record<string, string>, RegExp][] = [
        [['--unsafe-grant-without-quorum'], {}, /^dsync node: --unsafe-grant-without-quorum is a test aid that breaks safety on purpose; it is accepted only with DSYNC_TEST_AIDS=1 in the environment\n$/],
        [[], { DSYNC_FAILPOINTS: 'lock.stale-token' }, /^dsync node: DSYNC_FAILPOINTS=lock\.stale-token is a test aid [^\n]*DSYNC_TEST_AIDS=1[^\n]*\n$/],
        [[], { DSYNC_LOSE_UNSYNCED: '1' }, /^dsync node: DSYNC_LOSE_UNSYNCED=1 is a test aid [^\n]*DSYNC_TEST_AIDS=1[^\n]*\n$/],
      ];
      for (const [extra, env, message] of cases) {
        const r = await dsync([...args, ...extra], { DSYNC_TEST_AIDS: '', ...env });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '', 'it never started');
      }
    });

    /** A node `n1` whose peer `n2` never answers, with the lock API's answers and its warn lines. */
    async function lonelyNode(failpoints: readonly string[]) {
      const [deadPort] = await freePorts(1);
      const warnings: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          warnings.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => (JSON.parse(l) as { msg: string }).msg));
          done();
        },
      });
      return withFailpoints(failpoints, async () => {
        const node = await startNode({
          id: 'n1',
          listen: '127.0.0.1:0',
          peers: new Map([['n1', '127.0.0.1:0'], ['n2', `127.0.0.1:${deadPort}`]]),
          clusterSecret: Buffer.from('a test secret of 32 characters.'),
          dataDir: join(dir, failpoints.join('+') || 'none'),
          log: pino({ level: 'warn' }, sink),
          tickMs: 10,
          requestTimeoutMs: 300,
        });
        try {
          const base = `http://${node.address}`;
          const status = (await getJson(`${base}/status`)).body;
          const acquire = await getJson(`${base}/lock/acquire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', client: 'c1' }) });
          return { status, acquire, warnings: warnings.filter((w) => !w.startsWith('peer unreachable') && !w.startsWith('raft group: peer unreachable')) };
        } finally {
          await node.stop();
        }
      });
    }

    it('says which failpoints are on: a warn line at start and /status failpoints ([] when none)', async () => {
      const on = await lonelyNode(['lock.reuse-token', 'raft.vote-ignores-log']);
      assert.deepEqual(on.status['failpoints'], ['raft.vote-ignores-log', 'lock.reuse-token']);
      assert.deepEqual(on.warnings, ['failpoints enabled: raft.vote-ignores-log, lock.reuse-token — safety is broken on purpose (a test aid)']);
      const off = await lonelyNode([]);
      assert.deepEqual(off.status['failpoints'], []);
      assert.deepEqual(off.warnings, []);
    });

    it('lock.grant-without-quorum: a node that cannot reach its only peer grants a lock; off, it answers 503', async () => {
      const on = await lonelyNode(['lock.grant-without-quorum']);
      assert.equal(on.acquire.status, 200, JSON.stringify(on.acquire.body));
      assert.equal(on.acquire.body['name'], 'x');
      assert.deepEqual(on.status['failpoints'], ['lock.grant-without-quorum']);
      assert.equal((on.status['services'] as { lock: Record<string, unknown> }).lock['unsafeGrantWithoutQuorum'], true);
      assert.equal(on.warnings.length, 2, on.warnings.join('\n'));
      const off = await lonelyNode([]);
      assert.equal(off.acquire.status, 503, JSON.stringify(off.acquire.body));
    });

    it("lock.read-without-confirm: a follower answers GET /lock/{name} from its own stale table instead of the leader's", async () => {
      let forwarded = 0;
      const leader = createServer((req, res) => {
        forwarded++;
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', mode: null, holders: [], waiters: [] }));
      });
      const leaderAddress = await listen(leader);
      // The follower n2 still holds c1's grant of x; the leader (n1) has seen it released.
      const machine = new LockMachine();
      machine.apply({ index: 2, term: 1, data: { command: { type: 'acquire', name: 'x', client: 'c1', mode: 'exclusive', ttlMs: 60_000, waitMs: 0, now: Date.now() } } });
      const raft: LockRaft = { role: 'follower', leader: 'n1', propose: () => Promise.reject(new NotLeaderError('n1')), readIndex: () => Promise.reject(new NotLeaderError('n1')) };
      const locks = new LockService(raft, machine, { requestTimeoutMs: 2000 });
      const forwarder = new Forwarder(new Map([['n1', leaderAddress], ['n2', '127.0.0.1:1']]), 'n2');
      const routes = lockRoutes(locks, { id: 'n2', raft: { role: 'follower', leader: 'n1', waitForLeader: async () => 'n1' }, forwarder }, 65_536);
      const view = routes.find((r) => r.name === 'lock-view');
      assert.ok(view);
      const follower = createServer((req, res) => void view.handler(req, res, 'x'));
      const followerAddress = await listen(follower);
      const read = async (): Promise<{ service: number; route: string[]; forwarded: number }> => {
        forwarded = 0;
        const service = (await locks.view('x')).status;
        const body = (await getJson(`http://${followerAddress}/lock/x`)).body;
        return { service, route: (body['holders'] as { client: string }[]).map((h) => h.client), forwarded };
      };
      try {
        assert.deepEqual(await withFailpoints(['lock.read-without-confirm'], read), { service: 200, route: ['c1'], forwarded: 0 }, 'served here, stale, without ReadIndex');
        assert.deepEqual(await read(), { service: 503, route: [], forwarded: 1 }, 'the read needs ReadIndex and goes to the leader');
      } finally {
        locks.close();
        await forwarder.close();
        await close(follower);
        await close(leader);
      }
    });

    it("the local backend's node processes inherit DSYNC_FAILPOINTS", async () => {
      const saved = process.env['DSYNC_FAILPOINTS'];
      process.env['DSYNC_FAILPOINTS'] = 'lock.stale-token';
      let cluster: Awaited<ReturnType<typeof startLocalCluster>> | undefined;
      try {
        cluster = await startLocalCluster({ nodes: 1, dir, testAids: true });
      } finally {
        if (saved === undefined) delete process.env['DSYNC_FAILPOINTS'];
        else process.env['DSYNC_FAILPOINTS'] = saved;
      }
      try {
        const node = cluster.nodes[0];
        assert.ok(node);
        const status = await eventually('status', () => node.status().then((s) => s ?? undefined));
        assert.deepEqual(status['failpoints'], ['lock.stale-token']);
        assert.match(readFileSync(node.spec.logFile, 'utf8'), /"level":40[^\n]*"msg":"failpoints enabled: lock\.stale-token — safety is broken on purpose \(a test aid\)"/);
        assert.deepEqual(enabledFailpoints(), [], 'the test process itself read its environment once, at load');
      } finally {
        await cluster.destroy();
      }
    });
  });
});
