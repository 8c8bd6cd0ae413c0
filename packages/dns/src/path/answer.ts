import { answerQuery } from '../answer-query.js';
import type { Exchange, Handled } from './exchange.js';
import { reply } from './reply.js';

/**
 * The last step: a query answered from the zones (answer-query.ts). A plain
 * query's unsigned answer is kept for the fast path; a signed one is not
 * (its MAC is for one request).
 */
export function answerFromZones(ex: Exchange): Handled {
  const req = ex.req!;
  const res = answerQuery(req, ex.ctx.zones);
  const bytes = reply(ex, res);
  if (ex.fast && !ex.signed) ex.ctx.cache!.set(ex.fast, ex.raw, bytes, ex.ctx.zones.find(req.questions[0]!.name), ex.ctx.zones);
  return { bytes, rcode: res.rcode, kind: 'query', ...ex.asked };
}
