import { Command } from 'commander';
import { Catalog } from '@kmslab/core';
import { printJson, table } from '../output.js';
import { collect } from '../options.js';

export function productsCommand(): Command {
  return new Command('products')
    .description('list the product catalog')
    .option('--catalog <file>', 'extra product catalog (JSON), repeatable', collect)
    .option('--json', 'print JSON')
    .action((o: { catalog?: string[]; json?: boolean }) => {
      const products = Catalog.load(o.catalog ?? []).products();
      if (o.json) return printJson(products);
      const rows = [['ID', 'FAMILY', 'KIND', 'THRESHOLD', 'NEEDS', 'NAME']];
      for (const p of products) rows.push([p.id, p.family, p.kind, String(p.threshold), p.keyGroup ?? `pack ${p.licensePack}`, p.name]);
      process.stdout.write(`${table(rows)}\n`);
    });
}

export function keyGroupsCommand(): Command {
  return new Command('key-groups')
    .description('list host key groups, what each activates, and their lab keys')
    .option('--catalog <file>', 'extra product catalog (JSON), repeatable', collect)
    .option('--json', 'print JSON')
    .action((o: { catalog?: string[]; json?: boolean }) => {
      const catalog = Catalog.load(o.catalog ?? []);
      const groups = catalog.keyGroups().map((g) => ({ ...g, activates: [...catalog.activatedKeyGroups(g.id)] }));
      const packs = catalog.licensePacks();
      if (o.json) return printJson({ defaultKeyGroup: catalog.defaultKeyGroup, keyGroups: groups, licensePacks: packs });
      const rows = [['KEY GROUP', 'LAB KEY', 'ACTIVATES']];
      for (const g of groups) rows.push([g.id + (g.id === catalog.defaultKeyGroup ? ' (default)' : ''), g.labKey, g.activates.join(', ')]);
      rows.push([]);
      for (const p of packs) rows.push([`pack ${p.id}`, p.labKey, `family ${p.family}`]);
      process.stdout.write(`${table(rows)}\n`);
    });
}
