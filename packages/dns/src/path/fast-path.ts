import { AnswerCache } from '../answer-cache.js';
import type { Exchange, Handled } from './exchange.js';
import { matchFault } from './faults.js';

/**
 * Step 1, the fast path: a plain query (one question, at most an OPT, no
 * TSIG) whose answer was encoded before is answered with a copy of it,
 * without decoding (answer-cache.ts; measured by pnpm bench:dns). The name
 * stays in wire form: a dotted one is made only for a fault rule that may
 * match it, or when the log is read.
 */
export function answerFromCache(ex: Exchange): Handled | undefined {
  const cache = ex.ctx.cache;
  if (!cache) return undefined;
  const fast = AnswerCache.classify(ex.raw, ex.transport);
  if (!fast) return undefined;
  ex.fast = fast;
  const cached = cache.find(fast, ex.raw, ex.ctx.zones);
  ex.cached = cached;
  const faults = ex.ctx.faults;
  if (cached) ex.wireName = cached.wireName;
  else if (faults?.size) ex.wireName = AnswerCache.wireName(ex.raw, fast);
  // A fault may stand in for the cached answer: matched here (faults.ts, once per message) only when a rule
  // names this name or a suffix of it — the cheap look that keeps a harness with rules for other names free.
  if (faults?.size && faults.mayMatchWire(ex.wireName!) && matchFault(ex, false)) return undefined;
  if (!cached) return undefined;
  return { bytes: AnswerCache.answer(cached, fast, ex.raw), rcode: cached.bytes[3]! & 0xf, kind: 'query', qnameWire: AnswerCache.spelledWireName(cached, fast, ex.raw), qtype: fast.type, ednsSize: fast.ednsSize, dnssecOk: fast.dnssecOk };
}
