import { Help, type Command } from 'commander';

/** Help fits 80 columns on a terminal or in a pipe (CI logs, `| less`). */
const HELP_WIDTH = 80;

/**
 * Commander aligns descriptions after the longest option; with kmslab's long
 * option names that leaves no room, and it stops wrapping. Then each
 * description goes under its option instead, wrapped and indented.
 */
function formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
  if (!description || termWidth + 4 + this.minWidthToWrap <= HELP_WIDTH) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
  return `  ${term}\n${helper.boxWrap(description, HELP_WIDTH - 6).replace(/^/gm, '      ')}`;
}

/**
 * The same help layout and one-line usage errors for a command and all below
 * it: `kmslab: unknown option '--hots' (KMSLAB_INVALID_ARGUMENT)`, the form of
 * every other kmslab error.
 */
export function applyCliConventions(root: Command): void {
  const visit = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureHelp({ helpWidth: HELP_WIDTH, formatItem });
    cmd.configureOutput({
      outputError: (text, write) => write(`kmslab: ${text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (KMSLAB_INVALID_ARGUMENT)\n`),
    });
    for (const sub of cmd.commands) visit(sub);
  };
  visit(root);
}

/** An "Environment:" section at the end of a command's help. */
export function withEnvironment(cmd: Command, variables: Record<string, string>): Command {
  const width = Math.max(...Object.keys(variables).map((v) => v.length));
  const lines = Object.entries(variables).map(([name, what]) => `  ${name.padEnd(width)}  ${what}`);
  return cmd.addHelpText('after', `\nEnvironment:\n${lines.join('\n')}`);
}
