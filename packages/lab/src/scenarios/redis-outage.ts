import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const WIN10 = 'windows-10-enterprise';

/**
 * The host's Redis goes away for two hours while machines are joining: the
 * host answers "host unavailable" instead of counting, clients retry on their
 * 2-hour schedule, and once Redis is back nothing it acknowledged is missing.
 */
export function redisOutage(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'redis-outage', description: 'Redis stops for two hours while 30 machines join: clients hear "host unavailable" and retry; after recovery every acknowledged client is still counted and all 30 activate.' }, options, async (sim, check) => {
    await sim.startHost({ name: 'kms' });
    for (let i = 0; i < 30; i++) sim.addClient(`pc-${String(i + 1).padStart(2, '0')}`, WIN10, i * 10);
    await sim.runUntil(125);
    const before = (await sim.host.status()).families.windows?.currentCount ?? 0;
    check('13 machines counted before the outage', before === 13, `count ${before}`);

    await sim.stopRedis();
    await sim.runUntil(245);
    const during = sim.timeline.filter((e) => e.minute > 125 && e.minute <= 245);
    const unavailable = during.filter((e) => e.errorCode === '0xC004F074' && e.reason === 'KMSLAB_HOST_UNAVAILABLE');
    check('every contact during the outage hears "host unavailable" (0xC004F074, no host could activate)', during.length > 0 && unavailable.length === during.length, `${unavailable.length} of ${during.length} contacts`);

    await sim.startRedis();
    const after = (await sim.host.status()).families.windows?.currentCount ?? 0;
    check('after recovery the count is what was acknowledged before', after === before, `count ${after}`);
    await sim.runUntil(24 * 60);
    const licensed = sim.clientNames().filter((n) => sim.client(n).licenseStatus === 'licensed').length;
    const count = (await sim.host.status()).families.windows?.currentCount ?? 0;
    check('the machines retried: all 30 counted and licensed within a day', licensed === 30 && count === 30, `${licensed} licensed, count ${count}`);
  }, { store: 'redis' });
}
