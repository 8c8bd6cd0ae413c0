import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { healthcheckCommand } from './commands/healthcheck.js';
import { activateCommand } from './commands/activate.js';
import { clientCommand } from './commands/client.js';
import { discoverCommand } from './commands/discover.js';
import { dnsCommand } from './commands/dns.js';
import { labCommand } from './commands/lab.js';
import { upCommand } from './commands/up.js';
import { dashboardCommand } from './commands/dashboard.js';
import { hostStartCommand } from './commands/host-start.js';
import { hostStatusCommand } from './commands/host-status.js';
import { hostEventsCommand } from './commands/events.js';
import { keyGroupsCommand, productsCommand } from './commands/products.js';
import { completionCommand } from './commands/completion.js';
import { resetCommand } from './commands/reset.js';
import { applyCliConventions } from './help/layout.js';

/** The `kmslab` command tree (commander), with every subcommand and kmslab's help and error conventions. */
export function buildProgram(): Command {
  const program = new Command('kmslab')
    .description('KMS activation and DNS discovery lab, on its own documented protocol')
    .version((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version, '-v, --version', 'print the version');
  const host = new Command('host').description('run or inspect a KMS host');
  host.addCommand(hostStartCommand());
  host.addCommand(hostStatusCommand());
  host.addCommand(hostEventsCommand());
  program.addCommand(host);
  const dns = dnsCommand();
  program.addCommand(dns);
  const client = clientCommand();
  program.addCommand(client);
  program.addCommand(discoverCommand());
  const lab = labCommand();
  program.addCommand(lab);
  program.addCommand(upCommand());
  program.addCommand(dashboardCommand());
  program.addCommand(activateCommand());
  program.addCommand(productsCommand());
  program.addCommand(keyGroupsCommand());
  program.addCommand(healthcheckCommand());
  program.addCommand(completionCommand(() => program));
  program.addCommand(resetCommand());
  // Every command: errors come back to main() as exit codes, usage errors in kmslab's one-line form, help in 80 columns.
  applyCliConventions(program);
  return program;
}
