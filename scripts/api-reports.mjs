// The checked-in API report of every published package (API Extractor over dist/*.d.ts):
//   node scripts/api-reports.mjs           fails when what users import changed and the report was not updated
//   node scripts/api-reports.mjs --update  writes the new reports (commit them with the change, so review sees it)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const PACKAGES = ['core', 'dns-wire', 'server-kit', 'dns', 'host', 'client', 'lab', 'dashboard', 'testing', 'cli', 'testcontainers'];
// Entry points besides a package's main one: [package, API Extractor config, report].
const SUBPATHS = [['lab', 'api-extractor.live.json', 'lab-live.api.md']];
const REPORTS = [...PACKAGES.map((p) => [p, 'api-extractor.json', `${p}.api.md`]), ...SUBPATHS];
const update = process.argv.includes('--update');
// The command's own script (the package exports no bin path): node_modules/.bin is where pnpm links it.
const bin = 'node_modules/.bin/api-extractor';
const failed = [];
for (const [p, config, report] of REPORTS) {
  const r = spawnSync(`../../${bin}`, ['run', '--config', config, ...(update ? ['--local'] : [])], { cwd: `packages/${p}`, encoding: 'utf8' });
  if (r.status !== 0) {
    failed.push(report);
    process.stderr.write(`${r.stdout}${r.stderr}`.split('\n').filter((l) => /error|warning|changed/i.test(l)).join('\n') + '\n');
  }
}
// Every export says what it is in one TSDoc line (API Extractor marks the ones that do not).
for (const [p, , file] of REPORTS) {
  const report = readFileSync(`packages/${p}/${file}`, 'utf8').split('\n');
  const bare = report.flatMap((l, i) => (l.includes('(undocumented)') && /^export /.test(report[i + 1] ?? '') ? [report[i + 1].slice(0, 80)] : []));
  if (bare.length) {
    failed.push(file);
    console.error(`${file}: exports without a TSDoc line:\n  ${bare.join('\n  ')}`);
  }
}
if (failed.length) {
  console.error(`API reports differ or exports lack docs in ${failed.join(', ')}: review the public API, document it, then run pnpm api:update and commit packages/*/*.api.md.`);
  process.exit(1);
}
console.log(`API reports ${update ? 'written' : 'match'} for ${PACKAGES.length} packages (${REPORTS.length} entry points)`);
