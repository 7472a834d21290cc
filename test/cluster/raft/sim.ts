/**
 * A simulated cluster for the Raft core: an in-memory disk per member, a network that delays,
 * drops, duplicates and reorders messages and can be partitioned, crashes with restarts from the
 * disk, snapshots, client proposals and ReadIndex reads — all driven by one seeded PRNG, so a
 * schedule is reproduced exactly by its seed. Raft's safety properties are checked as it runs;
 * a violation throws with the seed and the step.
 */
import { RaftCore } from '../../../cluster/raft/core.js';
import type { HardState, LogEntry, Message, Snapshot } from '../../../cluster/raft/types.js';
import { prng } from '../../../harness/random.js';

/** Knobs of one simulated schedule. */
export interface SimOptions {
  readonly seed: number;
  readonly members: number;
  /** Steps with faults, then a healed phase that must make progress. */
  readonly steps: number;
  readonly dropRate?: number;
  readonly dupRate?: number;
  readonly crashRate?: number;
  readonly partitionRate?: number;
  readonly compactRate?: number;
  readonly proposeRate?: number;
  readonly readRate?: number;
  /**
   * Share of a leader's eligible Readies advanced before their entries are on its disk (the
   * real driver's async leader writes); the write lands later, or is lost in a crash. @default 0.5
   */
  readonly asyncWriteRate?: number;
}

interface Disk {
  hard: HardState;
  snapshot: Snapshot | null;
  entries: LogEntry[];
}

/** The replicated state machine of the simulation: the applied indices, folded into a digest. */
interface Machine {
  index: number;
  digest: number;
}

interface Member {
  readonly id: string;
  core: RaftCore | null;
  readonly disk: Disk;
  machine: Machine;
  downUntil: number;
  /** A leader's entries advanced past but not yet on its disk. */
  pending: LogEntry[];
}

interface InFlight {
  readonly at: number;
  readonly msg: Message;
}

/** What a finished schedule did, for assertions that it exercised something. */
export interface SimReport {
  readonly elections: number;
  readonly maxTerm: number;
  readonly committed: number;
  readonly crashes: number;
  readonly snapshotsInstalled: number;
  readonly reads: number;
}

export class SafetyViolation extends Error {}

const digestOf = (d: number, e: { index: number; term: number; data: unknown }): number => {
  let h = d ^ Math.imul(e.index, 0x9e3779b1) ^ Math.imul(e.term, 0x85ebca6b);
  const s = JSON.stringify(e.data);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
};

/** Runs one schedule; throws {@link SafetyViolation} if Raft's safety is broken or it makes no progress when healed. */
export function simulate(opts: SimOptions): SimReport {
  const rand = prng(opts.seed);
  const ids = Array.from({ length: opts.members }, (_, i) => `n${i + 1}`);
  const dropRate = opts.dropRate ?? 0.05;
  const dupRate = opts.dupRate ?? 0.02;
  const crashRate = opts.crashRate ?? 0.002;
  const partitionRate = opts.partitionRate ?? 0.01;
  const compactRate = opts.compactRate ?? 0.01;
  const proposeRate = opts.proposeRate ?? 0.3;
  const readRate = opts.readRate ?? 0.05;
  const asyncWriteRate = opts.asyncWriteRate ?? 0.5;
  let step = 0;
  let healed = false;
  const fail = (what: string): never => {
    throw new SafetyViolation(`seed ${opts.seed}, step ${step}: ${what}`);
  };

  const members = new Map<string, Member>();
  const makeCore = (m: Member): RaftCore =>
    new RaftCore({ id: m.id, members: ids, electionTicks: 10, heartbeatTicks: 2, maxEntriesPerMessage: 8, maxInflight: 4, random: rand }, { hard: m.disk.hard, snapshot: m.disk.snapshot, entries: m.disk.entries });
  for (const id of ids) {
    const m: Member = { id, core: null, disk: { hard: { term: 0, vote: null }, snapshot: null, entries: [] }, machine: { index: 0, digest: 0 }, downUntil: 0, pending: [] };
    m.core = makeCore(m);
    members.set(id, m);
  }

  let network: InFlight[] = [];
  const cut = new Set<string>();
  const applied = new Map<number, { term: number; digest: number }>();
  const leaders = new Map<number, string>();
  const pendingReads = new Map<number, { minIndex: number }>();
  let maxApplied = 0;
  /** Where the healed phase's proposal was committed. */
  let finalIndex: number | null = null;
  let nextData = 0;
  let readId = 0;
  const report = { elections: 0, maxTerm: 0, committed: 0, crashes: 0, snapshotsInstalled: 0, reads: 0 };

  const send = (msg: Message): void => {
    if (!healed && rand() < dropRate) return;
    const delay = 1 + Math.floor(rand() * 3);
    network.push({ at: step + delay, msg });
    if (!healed && rand() < dupRate) network.push({ at: step + delay + Math.floor(rand() * 5), msg });
  };

  const persistEntries = (m: Member, entries: readonly LogEntry[]): void => {
    const disk = m.disk;
    for (const e of entries) {
      // Overwriting durable entries must come with truncateFrom; anything else is a core bug.
      const last = disk.entries[disk.entries.length - 1]?.index ?? disk.snapshot?.meta.index ?? 0;
      if (e.index !== last + 1) fail(`${m.id} persists entry ${e.index} after ${last}`);
      disk.entries.push(e);
    }
  };

  /** Lands a leader's pending write on its disk; returns the last entry written, to report to the core. */
  const flushPending = (m: Member): LogEntry | undefined => {
    const last = m.pending[m.pending.length - 1];
    persistEntries(m, m.pending);
    m.pending = [];
    return last;
  };

  const process = (m: Member): void => {
    const core = m.core;
    if (!core) return;
    for (let guard = 0; core.hasReady(); guard++) {
      if (guard > 1000) fail(`${m.id} never runs out of Ready`);
      const rd = core.ready();
      const disk = m.disk;
      const async = core.role === 'leader' && !rd.hardState && rd.truncateFrom === undefined && !rd.snapshot && rand() < asyncWriteRate;
      // The driver finishes an earlier async write before any other persist (storage keeps order).
      const flushed = async ? undefined : flushPending(m);
      if (rd.snapshot) {
        disk.snapshot = rd.snapshot;
        disk.entries = disk.entries.filter((e) => e.index > rd.snapshot!.meta.index);
      }
      if (rd.truncateFrom !== undefined) disk.entries = disk.entries.filter((e) => e.index < rd.truncateFrom!);
      if (async) m.pending.push(...rd.entries);
      else persistEntries(m, rd.entries);
      if (rd.hardState) disk.hard = rd.hardState;
      for (const msg of rd.messages) send(msg);
      if (rd.applySnapshot) {
        m.machine = { ...(rd.applySnapshot.data as Machine) };
        report.snapshotsInstalled++;
      }
      for (const e of rd.committed) {
        if (e.index !== m.machine.index + 1) fail(`${m.id} applies ${e.index} after ${m.machine.index}`);
        m.machine = { index: e.index, digest: digestOf(m.machine.digest, e) };
        if ((e.data as { final?: number } | null)?.final === opts.seed) finalIndex ??= e.index;
        const seen = applied.get(e.index);
        if (seen === undefined) {
          applied.set(e.index, { term: e.term, digest: m.machine.digest });
          report.committed++;
        } else if (seen.term !== e.term || seen.digest !== m.machine.digest) {
          fail(`state machine safety: ${m.id} applied a different entry or history at index ${e.index}`);
        }
        maxApplied = Math.max(maxApplied, e.index);
      }
      for (const r of rd.reads) {
        const want = pendingReads.get(r.id);
        if (want && r.index < want.minIndex) fail(`ReadIndex ${r.index} misses index ${want.minIndex} applied before the read began`);
        pendingReads.delete(r.id);
        report.reads++;
      }
      for (const id of rd.failedReads) pendingReads.delete(id);
      core.advance(rd, !async);
      if (flushed) core.persisted(flushed.index, flushed.term);
    }
    if (core.role === 'leader') {
      const prev = leaders.get(core.term);
      if (prev === undefined) {
        leaders.set(core.term, m.id);
        report.elections++;
        report.maxTerm = Math.max(report.maxTerm, core.term);
        // Leader completeness: every applied (hence committed) entry is in the new leader's log.
        const snapIndex = core.snapshot().meta.index;
        for (const [index, e] of applied) {
          if (index <= snapIndex) continue;
          if (core.logTerm(index) !== e.term) fail(`leader completeness: leader ${m.id} of term ${core.term} lacks committed entry ${index}`);
        }
      } else if (prev !== m.id) {
        fail(`election safety: ${prev} and ${m.id} both lead term ${core.term}`);
      }
    }
  };

  const checkLogMatching = (): void => {
    const logs = ids.map((id) => members.get(id) as Member).map((m) => new Map(m.disk.entries.map((e) => [e.index, e])));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const la = logs[a] as Map<number, LogEntry>;
        const lb = logs[b] as Map<number, LogEntry>;
        let agreeUpTo = -1;
        for (const [i, e] of la) if (lb.get(i)?.term === e.term && i > agreeUpTo) agreeUpTo = i;
        for (const [i, e] of la) {
          const f = lb.get(i);
          if (i <= agreeUpTo && f && (f.term !== e.term || JSON.stringify(f.data) !== JSON.stringify(e.data))) {
            fail(`log matching: ${ids[a]} and ${ids[b]} agree at ${agreeUpTo} but differ at ${i}`);
          }
        }
      }
    }
  };

  const runStep = (faults: boolean): void => {
    step++;
    // Deliver what is due, in random order (reordering).
    const due = network.filter((f) => f.at <= step);
    network = network.filter((f) => f.at > step);
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [due[i], due[j]] = [due[j] as InFlight, due[i] as InFlight];
    }
    for (const { msg } of due) {
      if (cut.has(`${msg.from}>${msg.to}`)) continue;
      const m = members.get(msg.to) as Member;
      if (!m.core) continue;
      m.core.step(msg);
      process(m);
    }
    for (const m of members.values()) {
      if (!m.core) {
        if (step >= m.downUntil) {
          m.core = makeCore(m);
          m.machine = m.disk.snapshot ? { ...(m.disk.snapshot.data as Machine) } : { index: 0, digest: 0 };
        }
        continue;
      }
      // A leader's async write lands (or not yet).
      if (m.pending.length > 0 && rand() < 0.05) {
        const last = flushPending(m) as LogEntry;
        m.core.persisted(last.index, last.term);
      }
      m.core.tick();
      process(m);
    }
    // Clients.
    if (rand() < proposeRate) {
      const m = members.get(ids[Math.floor(rand() * ids.length)] as string) as Member;
      if (m.core?.role === 'leader') {
        m.core.propose({ n: nextData++ });
        process(m);
      }
    }
    const read = (m: Member): void => {
      if (!m.core) return;
      const id = ++readId;
      pendingReads.set(id, { minIndex: maxApplied });
      m.core.readIndex(id);
      process(m);
    };
    if (rand() < readRate) read(members.get(ids[Math.floor(rand() * ids.length)] as string) as Member);
    // Reads on every member that believes it leads: a deposed leader cut off from the others
    // must not serve one from its stale commit index.
    for (const m of members.values()) if (m.core?.role === 'leader' && rand() < readRate * 4) read(m);
    // Snapshots.
    for (const m of members.values()) {
      if (m.core && rand() < compactRate && m.machine.index > (m.disk.snapshot?.meta.index ?? 0)) {
        const data: Machine = { ...m.machine };
        m.core.compact(m.machine.index, data);
        const snap = m.core.snapshot();
        m.disk.snapshot = snap;
        m.disk.entries = m.disk.entries.filter((e) => e.index > snap.meta.index);
      }
    }
    if (!faults) return;
    // Crashes: lose everything but the disk.
    for (const m of members.values()) {
      if (m.core && rand() < crashRate) {
        m.core = null;
        m.pending = []; // an async write the crash interrupted never reached the disk
        m.downUntil = step + 5 + Math.floor(rand() * 50);
        report.crashes++;
      }
    }
    // Partitions.
    if (rand() < partitionRate) {
      cut.clear();
      const kind = rand();
      if (kind < 0.3) {
        // heal
      } else if (kind < 0.6) {
        const lone = ids[Math.floor(rand() * ids.length)] as string;
        for (const o of ids) if (o !== lone) cut.add(`${lone}>${o}`).add(`${o}>${lone}`);
      } else if (kind < 0.85) {
        const side = new Set(ids.filter(() => rand() < 0.5));
        for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) cut.add(`${a}>${b}`);
      } else {
        // asymmetric: one direction of one link
        const a = ids[Math.floor(rand() * ids.length)] as string;
        const b = ids[Math.floor(rand() * ids.length)] as string;
        if (a !== b) cut.add(`${a}>${b}`);
      }
    }
  };

  for (let i = 0; i < opts.steps; i++) {
    runStep(true);
    if (i % 50 === 0) checkLogMatching();
  }
  // Healed phase: everyone up, network whole; a new proposal must commit everywhere.
  healed = true;
  cut.clear();
  for (const m of members.values()) m.downUntil = 0;
  for (let i = 0; i < 3000; i++) {
    runStep(false);
    if (finalIndex === null) {
      // Propose (again, every 100 steps: a deposed leader's proposal may be lost) until committed.
      const leader = i % 100 === 0 ? [...members.values()].find((m) => m.core?.role === 'leader') : undefined;
      if (leader?.core) {
        leader.core.propose({ final: opts.seed });
        process(leader);
      }
    } else if ([...members.values()].every((m) => m.machine.index >= (finalIndex as number))) {
      checkLogMatching();
      return report;
    }
  }
  return fail(`no progress after healing: final proposal at ${String(finalIndex)}; ${[...members.values()].map((m) => `${m.id}: applied ${m.machine.index}, ${JSON.stringify(m.core?.status())}`).join('; ')}`);
}
