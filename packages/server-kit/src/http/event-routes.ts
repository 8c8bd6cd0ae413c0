import type { EventLog } from '@kmslab/core';
import { openEventStream, sendJson, sendLine, type AdminApp } from './admin-app.js';

const USAGE = 'GET /events[?after=SEQ][&limit=N]: the events after SEQ, at most N (1 to 1000); with Accept: text/event-stream, those and then each new one as it is logged';

/**
 * `GET /events` on an admin listener (a host's, a client agent's): the
 * Windows-style events of its `EventLog` (12288-12294) as JSON, `{ last,
 * events }`, oldest first; asked with `Accept: text/event-stream`, the same
 * backlog and then one `data:` line per new event, so a follower that
 * reconnects with `after=` misses nothing the log still holds.
 */
export function eventRoutes(app: AdminApp, log: EventLog): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/events', async (req, reply) => {
    const after = whole(req.query.after ?? '0', 0, Number.MAX_SAFE_INTEGER);
    const limit = whole(req.query.limit ?? String(log.capacity), 1, log.capacity);
    if (after === null || limit === null) return sendLine(reply, 400, USAGE);
    if (!/\btext\/event-stream\b/.test(req.headers.accept ?? '')) return sendJson(reply, 200, { last: log.last, events: log.after(after, limit) });
    let off: (() => void) | null = null;
    const res = openEventStream(reply, () => off?.());
    if (!res) return undefined;
    res.write(`: kmslab events\n\n${log.after(after, limit).map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}`);
    off = log.follow((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
    return undefined;
  });
}

/** A whole number in [min, max] from a query value, or null. */
function whole(text: string, min: number, max: number): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}
