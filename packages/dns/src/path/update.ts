import { OPCODE, RCODE, canonicalName, rcodeName } from '@kmslab/dns-wire';
import { applyUpdate } from '../update/apply-update.js';
import type { Exchange, Handled } from './exchange.js';
import { answerWith } from './reply.js';

/**
 * Step 7: a signed dynamic update (RFC 2136) — refused when its MAC was
 * seen in its TSIG window (replay-guard.ts), else applied to a copy of the
 * zone under the key's grants. RFC 2136 §3.5: a change is answered only once
 * it is stable, so the copy is saved (the zone journal) before it is served;
 * a failed save is SERVFAIL and changes nothing.
 */
export function applyDynamicUpdate(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  if (req.opcode !== OPCODE.UPDATE) return undefined;
  const { ctx } = ex;
  const signed = ex.signed!;
  const key = signed.key.name;
  const zone = req.questions[0]?.name;
  if (ctx.replays && !ctx.replays.admit(signed.requestMac, signed.tsig.timeSigned, signed.tsig.fudge, Math.floor(ctx.now() / 1000))) {
    ctx.onEvent?.({ event: 'update-refused', zone, key, reason: 'replay' });
    return answerWith(ex, RCODE.REFUSED, 'update', 'replay');
  }
  if (zone && ctx.secondaries?.has(canonicalName(zone))) {
    // A copy of the primary's zone: changes go to the primary.
    ctx.onEvent?.({ event: 'update-refused', zone, key, reason: 'secondary' });
    return answerWith(ex, RCODE.REFUSED, 'update', 'secondary');
  }
  const outcome = applyUpdate(req, ctx.zones, ctx.keys.get(key)!.grants, {
    owners: ctx.ownership?.active ? { ownership: ctx.ownership, key } : undefined,
    aging: ctx.aging ? { aging: ctx.aging, now: ctx.now() } : undefined,
  });
  if ((outcome.changed || outcome.touched) && outcome.zone) {
    // What changed, for secondaries that ask by IXFR (zone-history.ts), kept with the zone.
    const before = ctx.zones.get(outcome.zone.origin)!;
    const names = req.authorities.map((rr) => rr.name);
    outcome.zone.recordChangeFrom(before, names);
    try {
      ctx.saveZone?.(outcome.zone, { from: before.serial, names });
    } catch (err) {
      ctx.onEvent?.({ event: 'update-not-saved', zone: outcome.zone.origin, key, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      return answerWith(ex, RCODE.SERVFAIL, 'update', 'not-saved');
    }
    const served = ctx.zones.get(outcome.zone.origin)!;
    served.takeOver(outcome.zone);
    if (outcome.changed) ctx.onZoneChanged?.(served);
  }
  ctx.onEvent?.({ event: 'update', zone: outcome.zone?.origin, key, rcode: rcodeName(outcome.rcode), changed: outcome.changed, serial: outcome.zone?.serial, reason: outcome.reason, detail: outcome.detail });
  return answerWith(ex, outcome.rcode, 'update', outcome.rcode === RCODE.NOERROR ? undefined : (outcome.reason ?? rcodeName(outcome.rcode)));
}
