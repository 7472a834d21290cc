/**
 * The bug catalogue (etcd's robustness "track record", for dsync): a YAML list of planted bugs,
 * each a failpoint (see `cluster/failpoints.ts`) and the experiment(s) that must catch it. `npm
 * run test:catalogue` runs each planted build and expects **invalid**, and every experiment the
 * catalogue names once without failpoints and expects **valid** (see `catalogue-command.ts`).
 *
 * ```yaml
 * bugs:
 *   - failpoint: raft.commit-without-quorum
 *     bug: the leader commits without a quorum
 *     experiments: [lock-isolate.yaml]      # relative to this file; the first to be invalid catches it
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { issueLines, parseYamlMap } from './yaml-file.js';

/** A bad catalogue file; `message` names the file, line and field. */
export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
}

const failpointName = z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'a failpoint name like raft.commit-without-quorum');

/** The schema of a catalogue file. */
export const catalogueSchema = z.strictObject({
  /** What the catalogue is, in words. */
  description: z.string().default(''),
  bugs: z
    .array(
      z.strictObject({
        /** The failpoint that plants the bug (set in `DSYNC_FAILPOINTS` for every node of the run). */
        failpoint: failpointName,
        /** The bug, in words. */
        bug: z.string().min(1),
        /** Experiment files, relative to the catalogue; tried in order, the first invalid run catches the bug. */
        experiments: z.array(z.string().min(1)).min(1),
        /**
         * Seeds to try each experiment with, in order (each overrides the file's seed): for a bug
         * whose interleaving a seeded run hits only now and then. Absent: the file's seed.
         */
        seeds: z.array(z.number().int().min(0)).min(1).optional(),
        /**
         * Why the experiments are known not to catch this bug yet. A known gap that is missed
         * does not fail the catalogue (it is listed as one); one that is caught is reported, so
         * the field can go. Absent: the bug must be caught.
         */
        knownGap: z.string().min(1).optional(),
      }),
    )
    .min(1)
    .superRefine((bugs, ctx) => {
      const seen = new Map<string, number>();
      bugs.forEach((b, i) => {
        const first = seen.get(b.failpoint);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'failpoint'], message: `"${b.failpoint}" is already listed as bugs[${first}]` });
        else seen.set(b.failpoint, i);
      });
    }),
});

/** One planted bug of a catalogue, with its experiments' paths resolved. */
export interface CatalogueBug {
  readonly failpoint: string;
  readonly bug: string;
  /** Absolute paths. */
  readonly experiments: readonly string[];
  /** Seeds each experiment is tried with (absent: the file's). */
  readonly seeds?: readonly number[];
  /** Why it is known not to be caught yet (see the schema), if so. */
  readonly knownGap?: string;
}

/** A loaded catalogue. */
export interface Catalogue {
  readonly file: string;
  readonly description: string;
  readonly bugs: readonly CatalogueBug[];
}

/**
 * Parses catalogue YAML `text` of `file`. `knownFailpoints` (when given) are the names a bug may
 * plant; experiment paths resolve against the file's folder.
 * @throws CatalogueError naming the file, the line and the field of each problem
 */
export function parseCatalogue(text: string, file: string, knownFailpoints?: readonly string[]): Catalogue {
  const { raw, where } = parseYamlMap(text, file, 'catalogue fields (description, bugs)', (m) => new CatalogueError(m));
  const r = catalogueSchema.safeParse(raw);
  const problems = r.success ? [] : issueLines(r.error.issues, raw, where);
  if (r.success && knownFailpoints !== undefined) {
    r.data.bugs.forEach((b, i) => {
      if (!knownFailpoints.includes(b.failpoint)) {
        problems.push(`${where(['bugs', i, 'failpoint'])}: bugs.${i}.failpoint: no failpoint named "${b.failpoint}" (known: ${knownFailpoints.join(', ')})`);
      }
    });
  }
  if (problems.length > 0 || !r.success) throw new CatalogueError(problems.join('\n'));
  const base = dirname(file);
  return {
    file,
    description: r.data.description,
    bugs: r.data.bugs.map((b) => ({
      failpoint: b.failpoint,
      bug: b.bug,
      experiments: b.experiments.map((e) => resolve(base, e)),
      ...(b.seeds !== undefined ? { seeds: b.seeds } : {}),
      ...(b.knownGap !== undefined ? { knownGap: b.knownGap } : {}),
    })),
  };
}

/** Reads and parses a catalogue file (see {@link parseCatalogue}). */
export function loadCatalogue(file: string, knownFailpoints?: readonly string[]): Catalogue {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CatalogueError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCatalogue(text, file, knownFailpoints);
}

/** Every experiment the catalogue names, once each, in order of first mention. */
export function catalogueExperiments(c: Catalogue): string[] {
  return [...new Set(c.bugs.flatMap((b) => b.experiments))];
}
