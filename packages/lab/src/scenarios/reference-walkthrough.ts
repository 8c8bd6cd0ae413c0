import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const WIN7 = 'windows-7-professional';
const SERVER = 'windows-server-2008-r2-enterprise';

/**
 * The documented example of KMS counting (kms-reference.md "Counting"): a new
 * host on a Windows Server 2008 R2 key; two Windows 7 → count 2; a Windows
 * Server 2008 R2 → 3; ten more Windows 7 → 13; the server activates on its
 * next contact; Windows 7 machines need 12 more distinct clients.
 */
export function referenceWalkthrough(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'reference-walkthrough', description: 'The documented example: counts 2, 3, 13; the server activates on its next contact; Windows 7 needs 12 more clients.' }, options, async (sim, check) => {
    await sim.startHost({ keyGroup: 'windows-server-2008-r2-b' });
    const last = (client: string) => [...sim.timeline].reverse().find((e) => e.client === client);

    sim.addClient('win7-01', WIN7, 0);
    sim.addClient('win7-02', WIN7, 1);
    await sim.runUntil(1);
    check('two Windows 7 → count 2, not activated', last('win7-02')?.count === 2 && !last('win7-02')!.licensed, `count ${last('win7-02')?.count}`);

    sim.addClient('server-01', SERVER, 2);
    await sim.runUntil(2);
    check('a Windows Server 2008 R2 → count 3 < 5, not activated', last('server-01')?.count === 3 && !last('server-01')!.licensed, `count ${last('server-01')?.count}`);

    for (let i = 0; i < 10; i++) sim.addClient(`win7-${String(i + 3).padStart(2, '0')}`, WIN7, 3 + i);
    await sim.runUntil(12);
    check('ten more Windows 7 → count 13', last('win7-12')?.count === 13, `count ${last('win7-12')?.count}`);

    await sim.runUntil(2 + 120);
    const serverAgain = last('server-01')!;
    check('the server activates on its next contact (2 h later): 13 ≥ 5', serverAgain.minute === 122 && serverAgain.licensed && serverAgain.count === 13, `at minute ${serverAgain.minute}, count ${serverAgain.count}, ${serverAgain.licensed ? 'licensed' : 'not licensed'}`);
    const win7Again = last('win7-01')!;
    check('Windows 7 machines need 12 more distinct clients', win7Again.minute === 120 && !win7Again.licensed && win7Again.threshold - (win7Again.count ?? 0) === 12, `win7-01 at minute ${win7Again.minute}: count ${win7Again.count} of ${win7Again.threshold}`);

    for (let i = 0; i < 12; i++) sim.addClient(`win7-${String(i + 13).padStart(2, '0')}`, WIN7, 180 + i);
    await sim.runUntil(191);
    check('twelve more Windows 7 → count 25', last('win7-24')?.count === 25 && last('win7-24')!.licensed, `count ${last('win7-24')?.count}`);
    await sim.runUntil(4 * 60 + 2);
    check('the first Windows 7 machines activate at their next retry', sim.client('win7-01').licenseStatus === 'licensed', `win7-01 is ${sim.client('win7-01').licenseStatus}`);

  });
}
