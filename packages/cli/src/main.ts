import { CommanderError } from 'commander';
import { KmsLabError } from '@kmslab/core';
import { buildProgram } from './program.js';

/**
 * Runs the CLI and returns the exit code. User errors print one line, no
 * stack trace (style.md rule 4); anything else is a bug and shows its stack.
 */
export async function main(argv: readonly string[]): Promise<number> {
  // `kmslab … | head`: the reader left; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(withoutScriptSeparator(argv));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof KmsLabError) {
      process.stderr.write(`kmslab: ${err.message} (${err.code})\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * `pnpm start -- --clients 30`: pnpm hands the `--` on to the script, and
 * commander would take every flag after it as an operand. A `--` right
 * after the command words, before any option, is that separator: drop it.
 */
export function withoutScriptSeparator(argv: readonly string[]): string[] {
  const at = argv.indexOf('--', 2);
  if (at < 0 || argv.slice(2, at).some((a) => a.startsWith('-'))) return [...argv];
  return [...argv.slice(0, at), ...argv.slice(at + 1)];
}
