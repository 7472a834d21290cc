/**
 * Parses `dsync bench <name> ...args` with commander as the CLI would, without running the
 * command: the options it would be given, or `{error}` with commander's message for bad flags.
 */
import { Command, CommanderError } from 'commander';

/** What a bench command's action would receive, or commander's error text. */
export type ParsedFlags = Record<string, unknown> & { error?: string };

/**
 * `register(program)` adds the bench subcommand `name` (under `bench`) to `program` and returns
 * it; its action is replaced so that only the parsed options are kept.
 */
export async function parseBenchFlags(register: (program: Command) => Command, name: string, args: readonly string[]): Promise<ParsedFlags> {
  const err: string[] = [];
  const program = new Command('dsync').exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: () => undefined });
  let parsed: ParsedFlags = {};
  register(program).action((o: ParsedFlags) => {
    parsed = o;
  });
  try {
    await program.parseAsync(['bench', name, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { error: err.join('') };
    throw e;
  }
  return parsed;
}

/** An Output that drops every line. */
export const silent = { out: (): void => undefined, err: (): void => undefined };
