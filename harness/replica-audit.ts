/**
 * The replica audit: a checker of the nodes' logs, not of the history. Nodes started by the
 * harness log `applied state digest` every few applied entries (see `cluster/node/state-digest.ts`):
 * the index, the entry's term and a digest of the whole replicated state. For every index that
 * two records name — of two nodes, or of one node before and after a restart — the term and
 * the digest must be equal; if not, replicas applied different entries at one index or the same
 * entries with different effects (a committed entry lost, an uncommitted one applied, a lease
 * expired by a replica's own clock...), which clients may never get to see in a short run.
 */
import { readFileSync } from 'node:fs';
import type { Checker, CheckerResult } from '../checkers/index.js';
import { APPLIED_DIGEST_MSG } from '../cluster/node/state-digest.js';

/** One audit record of a node's log. */
export interface AuditRecord {
  readonly node: string;
  /** 1-based line of the record in the node's log. */
  readonly line: number;
  readonly index: number;
  readonly term: number;
  readonly state: string;
}

/** The audit records in the text of `node`'s log (JSON lines; other lines are skipped). */
export function parseAuditRecords(node: string, text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (!l.includes(APPLIED_DIGEST_MSG) || !l.startsWith('{')) continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch {
      continue; // a line cut short by a kill -9
    }
    const r = v as Record<string, unknown>;
    if (r.msg !== APPLIED_DIGEST_MSG || typeof r.index !== 'number' || typeof r.term !== 'number' || typeof r.state !== 'string') continue;
    out.push({ node, line: i + 1, index: r.index, term: r.term, state: r.state });
  }
  return out;
}

/** What the audit found. */
export interface ReplicaAuditResult extends CheckerResult {
  /** Indexes reported by at least two records. */
  readonly compared: number;
  readonly records: number;
  /** The first disagreements (at most 10), one line each. */
  readonly divergences: readonly string[];
}

/** Compares audit records: every index's records must agree on term and state. */
export function auditReplicas(records: readonly AuditRecord[]): ReplicaAuditResult {
  const byIndex = new Map<number, AuditRecord[]>();
  for (const r of records) {
    const a = byIndex.get(r.index);
    if (a) a.push(r);
    else byIndex.set(r.index, [r]);
  }
  let compared = 0;
  const divergences: string[] = [];
  let diverged = 0;
  for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
    const rs = byIndex.get(index) as AuditRecord[];
    if (rs.length < 2) continue;
    compared++;
    const first = rs[0] as AuditRecord;
    const other = rs.find((r) => r.term !== first.term || r.state !== first.state);
    if (other === undefined) continue;
    diverged++;
    if (divergences.length < 10) {
      const at = (r: AuditRecord): string => `${r.node} (log line ${r.line}) applied term ${r.term}, state ${r.state}`;
      divergences.push(`index ${index}: ${at(first)}; ${at(other)}`);
    }
  }
  const nodes = new Set(records.map((r) => r.node)).size;
  if (diverged > 0) {
    const reason = `replicas diverged at ${diverged} of ${compared} audited indexes; first: ${divergences[0]}`;
    return { valid: false, reason, summary: reason, compared, records: records.length, divergences };
  }
  return {
    valid: true,
    summary: `replicas agree: ${compared} audited indexes compared over ${nodes} node${nodes === 1 ? '' : 's'} (${records.length} records)`,
    compared,
    records: records.length,
    divergences,
  };
}

/** The audit as a checker over the node logs `logFiles` (node id → path), read when it runs. */
export function replicaAuditChecker(logFiles: ReadonlyMap<string, string>): Checker {
  return {
    name: 'replicas',
    check() {
      const records: AuditRecord[] = [];
      for (const [node, file] of logFiles) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // the node never started
          throw e;
        }
        records.push(...parseAuditRecords(node, text));
      }
      return auditReplicas(records);
    },
  };
}
