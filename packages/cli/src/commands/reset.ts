import { existsSync, readdirSync, rmSync } from 'node:fs';
import { Command } from 'commander';

/**
 * `kmslab reset`: forgets what earlier runs left in `./.kmslab` — hosts'
 * counts (memory store), the client's state and cached host, the DNS
 * server's updated zones, `kmslab up`'s lab — so a walkthrough starts from
 * a new host and a new client machine, as the README's sections assume.
 */
export function resetCommand(): Command {
  return new Command('reset')
    .description("forget the state kmslab keeps in ./.kmslab (host counts, client state, DNS zones, kmslab up's lab)")
    .option('--dir <dir>', 'the folder to clear', '.kmslab')
    .action((o: { dir: string }) => {
      if (!existsSync(o.dir)) return void process.stdout.write(`nothing to reset: ${o.dir} does not exist\n`);
      const entries = readdirSync(o.dir);
      rmSync(o.dir, { recursive: true, force: true });
      process.stdout.write(`removed ${o.dir}${entries.length ? ` (${entries.join(', ')})` : ''}\n`);
    });
}
