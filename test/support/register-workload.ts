/**
 * A tiny workload and a fake backend that exist only in the tests: they prove that adding a
 * workload or a backend takes its definition and one registry line, nothing else. The workload
 * reads and writes one register kept in memory (no node at all), and can plant a bug — reads that
 * return the value before the last write — that the linearizability checker must catch. It
 * builds only on the public surfaces (`harness/index.ts`, `checkers/index.ts`,
 * `workloads/index.ts`, `cluster/backends.ts`), as a workload in `workloads/` must.
 */
import { z } from 'zod';
import { linearizableChecker } from '../../checkers/index.js';
import { fromFunction, nextFloat, nextInt, seedRand, type Rand } from '../../harness/index.js';
import { defineWorkload, type Client } from '../../workloads/index.js';
import type { ClusterBackend, Killable } from '../../cluster/backend.js';
import type { BackendDefinition } from '../../cluster/backends.js';

/** The `workload:` section of `name: test-register`. */
export const registerWorkloadSchema = z
  .object({
    name: z.literal('test-register'),
    /** Values written are 1..values. */
    values: z.number().int().min(1).default(5),
    /** PLANTED BUG: reads answer the value before the last write. */
    staleReads: z.boolean().default(false),
  })
  .strict();

/** The in-memory register every process shares. */
class RegisterClient implements Client {
  #value: number | null = null;
  #previous: number | null = null;
  readonly #stale: boolean;
  closed = false;

  constructor(stale: boolean) {
    this.#stale = stale;
  }

  async invoke(op: { f: string; value: unknown }) {
    if (op.f === 'write') {
      this.#previous = this.#value;
      this.#value = op.value as number;
      return { type: 'ok' as const, value: op.value };
    }
    return { type: 'ok' as const, value: this.#stale ? this.#previous : this.#value };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The test workload's definition: what one registry line registers. */
export const registerWorkloadDefinition = defineWorkload(registerWorkloadSchema, (o, ctx) => {
  const gen = (seed: number) =>
    fromFunction<Rand>(seedRand(seed), (_ctx, r) => {
      const [x, r1] = nextFloat(r);
      if (x < 0.5) return [{ f: 'read', value: null }, r1];
      const [v, r2] = nextInt(r1, o.values);
      return [{ f: 'write', value: v + 1 }, r2];
    });
  return {
    name: 'test-register',
    client: new RegisterClient(o.staleReads),
    generator: gen(ctx.seed),
    finalGenerator: gen(ctx.seed + 1),
    checker: linearizableChecker('register'),
    describe: `test-register: one in-memory register over ${ctx.endpoints.size} fake endpoints${o.staleReads ? ', stale reads (planted bug)' : ''}`,
  };
});

/** A cluster of nothing: node names, endpoints nobody listens on, kill/restart bookkeeping. */
export class FakeBackend implements ClusterBackend, Killable {
  readonly name = 'test-fake';
  readonly nodes: readonly string[];
  readonly killed: string[] = [];
  readonly #down = new Set<string>();
  torndown = false;

  constructor(nodes: number) {
    this.nodes = Array.from({ length: nodes }, (_, i) => `f${i + 1}`);
  }

  endpoint(node: string): string {
    return `http://fake.invalid/${node}`;
  }

  logFiles(): ReadonlyMap<string, string> {
    return new Map();
  }

  async kill(node: string): Promise<void> {
    this.killed.push(node);
    this.#down.add(node);
  }

  async restart(node: string): Promise<void> {
    this.#down.delete(node);
  }

  isRunning(node: string): boolean {
    return !this.#down.has(node);
  }

  async teardown(): Promise<void> {
    this.torndown = true;
  }
}

/** A backend definition whose clusters are {@link FakeBackend}s, kept in `started`. */
export function fakeBackendDefinition(): BackendDefinition & { readonly started: FakeBackend[] } {
  const started: FakeBackend[] = [];
  return {
    name: 'test-fake',
    describe: 'no processes at all (tests)',
    started,
    async start(o) {
      const b = new FakeBackend(o.nodes);
      started.push(b);
      return b;
    },
  };
}
