import { RCODE } from '@kmslab/dns-wire';
import { answerFromZones } from './path/answer.js';
import { decodeRequest } from './path/decode.js';
import { exchangeFor, type Client, type Handled, type ServerContext, type Step, type Transport } from './path/exchange.js';
import { answerFromCache } from './path/fast-path.js';
import { applyFault } from './path/faults.js';
import { admitOpcode } from './path/opcode.js';
import { headerOnlyAnswer } from './path/reply.js';
import { answerTransfer } from './path/transfer.js';
import { verifySignature } from './path/tsig.js';
import { applyDynamicUpdate } from './path/update.js';

export type { Client, Handled, ServerContext, Transport } from './path/exchange.js';

/**
 * The DNS request path, in order; each step answers or hands the message on
 * (as CoreDNS chains its plugins). A new rule (NOTIFY, a secure zone's
 * ownership check) is a new step in this list, in its own file under path/.
 */
const STEPS: readonly Step[] = [
  answerFromCache, // a plain query answered before: a copy of the answer, no decoding
  decodeRequest, // FORMERR, or silence for responses
  verifySignature, // TSIG (RFC 8945): NOTAUTH, else answers signed from here on
  admitOpcode, // updates must be signed; other opcodes NOTIMP
  answerTransfer, // AXFR over TCP, signed once keys exist
  applyFault, // the harness's rules, matched once per message
  applyDynamicUpdate, // RFC 2136: replay guard, grants, saved before served
];

/**
 * One DNS message in, at most one answer out. Never throws: a message that
 * decoded but cannot be answered (a name that does not encode back) is
 * SERVFAIL; one that cannot be read gets FORMERR when its header is readable
 * and it is a query, and is dropped otherwise.
 */
export function handleMessage(raw: Buffer, transport: Transport, ctx: ServerContext, client?: Client): Handled {
  try {
    const ex = exchangeFor(raw, transport, ctx, client);
    for (let i = 0; i < STEPS.length; i++) {
      const handled = STEPS[i]!(ex);
      if (handled) return handled;
    }
    return answerFromZones(ex);
  } catch (err) {
    ctx.onEvent?.({ event: 'internal-error', error: (err as Error).message });
    return headerOnlyAnswer(raw, RCODE.SERVFAIL);
  }
}
