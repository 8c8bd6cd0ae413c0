import { OPCODE, canonicalName } from '@kmslab/dns-wire';
import type { AppliedFault } from '../harness/fault-set.js';
import { faultedAnswer } from '../harness/faulted-answer.js';
import { dottedName } from '../wire-name.js';
import type { Exchange, Handled } from './exchange.js';
import { reply } from './reply.js';

/**
 * The one place a message meets the fault rules (docs/dns-faults.md), at
 * most once per message, since a match counts against a rule's `count=`. A
 * plain query is matched by its wire-form name, after a cheap look at
 * whether any rule names it or a suffix of it (the fast path asks first, to
 * know whether its cached answer may go); anything else by its decoded name.
 */
export function matchFault(ex: Exchange, update: boolean): AppliedFault | null {
  if (ex.fault !== undefined) return ex.fault;
  const faults = ex.ctx.faults;
  const address = ex.client?.address ?? '';
  let fault: AppliedFault | null = null;
  if (!faults?.size) fault = null;
  else if (ex.fast && ex.wireName !== undefined) {
    const wire = ex.wireName;
    if (faults.mayMatchWire(wire)) {
      // The question's name as spelled starts at byte 12 (a question is never compressed); read only by a case=exact rule.
      const spelled = () => dottedName(ex.raw.toString('latin1', 12, 12 + wire.length));
      fault = faults.match({ name: dottedName(wire), type: ex.fast.type, address, transport: ex.transport, update: false, spelled });
    }
  } else {
    const q0 = ex.req?.questions[0];
    const spelled = () => (q0?.name ?? '').replace(/\.$/, '');
    if (q0 || update) fault = faults.match({ name: canonicalName(q0?.name ?? ''), type: q0?.type ?? 0, address, transport: ex.transport, update, spelled });
  }
  ex.fault = fault;
  return fault;
}

/**
 * Step 6: a fault switched on at run time answers instead of the zones: a
 * query gets what the rule makes of it (never cached: the next one may not
 * be faulted); a signed update is refused as the rule says, unapplied.
 */
export function applyFault(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  const update = req.opcode === OPCODE.UPDATE;
  const fault = matchFault(ex, update);
  if (!fault) return undefined;
  const f = faultedAnswer(fault.action, req, ex.ctx.zones, ex.transport);
  if (update) {
    ex.ctx.onEvent?.({ event: 'update-refused', zone: req.questions[0]?.name, key: ex.signed?.key.name, reason: `fault ${fault.id}` });
    return { bytes: reply(ex, f.message!), rcode: f.message!.rcode, kind: 'update', ...ex.asked, fault, reason: 'fault' };
  }
  return { bytes: f.message ? reply(ex, f.message) : null, rcode: f.message?.rcode ?? null, kind: f.message ? 'query' : 'dropped', ...ex.asked, fault, delayMs: f.delayMs };
}
