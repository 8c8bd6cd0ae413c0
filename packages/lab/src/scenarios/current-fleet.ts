import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const WINDOWS_11 = ['windows-11-pro', 'windows-11-enterprise', 'windows-11-education', 'windows-11-enterprise-ltsc-2024'];
const SERVERS = ['windows-server-2025-standard', 'windows-server-2025-datacenter', 'windows-server-2022-standard', 'windows-server-2019-datacenter', 'windows-server-2025-standard'];
const OFFICE = ['office-ltsc-2024-professional-plus', 'office-ltsc-2024-standard', 'project-2024-professional', 'visio-ltsc-2024-professional', 'office-ltsc-2024-professional-plus'];

/**
 * A network as admins meet it today (kms-reference.md "Host key groups"):
 * one host on a Windows Server 2025 key with the Office LTSC 2024 license
 * pack. Five servers (2019 to 2025) reach the server threshold among
 * themselves; Windows 11 machines count with them in the one Windows count
 * and activate at 25; Office LTSC 2024, Project and Visio keep their own
 * count and activate at 5; an Office 2019 machine is refused, since each
 * Office version needs its own pack on the host.
 */
export function currentFleet(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'current-fleet', description: 'Windows 11, Server 2019-2025 and Office LTSC 2024 on one Server 2025 host with the Office LTSC 2024 pack; Office 2019 needs its own pack.' }, options, async (sim, check) => {
    await sim.startHost({ keyGroup: 'windows-server-2025', licensePacks: ['office-ltsc-2024'] });
    const last = (client: string) => [...sim.timeline].reverse().find((e) => e.client === client);

    SERVERS.forEach((product, i) => sim.addClient(`srv-${i + 1}`, product, i));
    await sim.runUntil(5);
    check('five servers, 2019 to 2025: count 5, the fifth activates at once', last('srv-5')?.count === 5 && last('srv-5')!.licensed && !last('srv-1')!.licensed, `srv-5 count ${last('srv-5')?.count}, ${last('srv-5')?.licensed ? 'licensed' : 'not licensed'}`);

    OFFICE.forEach((product, i) => sim.addClient(`office-${i + 1}`, product, 10 + i));
    sim.addClient('o2019-1', 'office-2019-professional-plus', 15);
    await sim.runUntil(16);
    check('Office LTSC 2024, Project 2024 and Visio LTSC 2024 keep their own count: the fifth activates at 5', last('office-5')?.count === 5 && last('office-5')!.licensed && last('office-5')!.threshold === 5, `office-5 count ${last('office-5')?.count}`);
    const office2019 = last('o2019-1');
    check('Office 2019 is refused: the host has no Office 2019 pack (0xC004F042)', office2019?.errorCode === '0xC004F042' && !office2019.licensed, `o2019-1: ${office2019?.errorCode}`);

    for (let i = 0; i < 20; i++) sim.addClient(`win11-${String(i + 1).padStart(2, '0')}`, WINDOWS_11[i % WINDOWS_11.length]!, 20 + i);
    await sim.runUntil(40);
    const windows = (await sim.hostNamed().status()).families.windows!;
    check('Windows 11 counts with the servers in the one Windows count: the 20th makes 25 and activates', last('win11-20')?.count === 25 && last('win11-20')!.licensed && windows.currentCount === 25, `win11-20 count ${last('win11-20')?.count}; Windows count ${windows.currentCount}`);
    const ltsc = sim.timeline.filter((e) => e.product === 'windows-11-enterprise-ltsc-2024');
    check('Windows 11 Enterprise LTSC 2024 is counted by the Server 2025 key (a Server 2022 key would refuse it: 0xC004F042)', ltsc.length > 0 && ltsc.every((e) => e.count !== null && e.errorCode !== '0xC004F042'), `${ltsc.length} contacts, codes ${[...new Set(ltsc.map((e) => e.errorCode ?? 'licensed'))].join('/')}`);

    await sim.runUntil(40 + 120);
    const licensed = (prefix: string) => sim.timeline.filter((e) => e.client.startsWith(prefix)).every((e) => e.minute < 120 || e.licensed);
    check('at their next retry (2 h later) every server, Windows 11 and Office LTSC 2024 machine is licensed', licensed('srv-') && licensed('win11-') && licensed('office-'), 'every contact after minute 120 licensed');
  });
}
