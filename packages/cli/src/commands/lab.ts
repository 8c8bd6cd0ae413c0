import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { KmsLabError } from '@kmslab/core';
import { intOption } from '../options.js';
import { printJson, table } from '../output.js';

export function labCommand(): Command {
  const lab = new Command('lab').description('scenarios on a virtual clock, driving the real host and client code');
  lab.addCommand(
    new Command('list').description('list the built-in scenarios').action(async () => {
      const { SCENARIOS } = await import('@kmslab/lab');
      process.stdout.write(`${table([['NAME', 'DESCRIPTION'], ...Object.entries(SCENARIOS).map(([n, s]) => [n, s.description])])}\n`);
    }),
  );
  lab.addCommand(
    new Command('run')
      .description('run a scenario and print its narrated timeline and checks; exit 1 when a check fails')
      .argument('<name|file>', 'a built-in scenario (kmslab lab list) or a scenario file (.yaml)')
      .option('--json', 'print JSON')
      .option('--seed <n>', 'seed for SRV weighting (scenario files)', intOption('--seed', 0, 2 ** 31))
      .action(async (name: string, o: { json?: boolean; seed?: number }) => {
        const { SCENARIOS, narrate, loadScenarioFile, runScenarioFile } = await import('@kmslab/lab');
        const isFile = /\.ya?ml$/i.test(name) || existsSync(name);
        const scenario = SCENARIOS[name];
        if (!scenario && !isFile) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `No scenario "${name}"; kmslab lab list shows them, or give a .yaml file`);
        const result = scenario ? await scenario.run() : await runScenarioFile(loadScenarioFile(name), { seed: o.seed });
        if (o.json) printJson(result);
        else process.stdout.write(`${narrate(result)}\n`);
        process.exitCode = result.passed ? 0 : 1;
      }),
  );
  return lab;
}
