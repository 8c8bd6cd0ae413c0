import type { EventLog } from '@kmslab/core';
import { openEventStream, sendJson, sendLine, type AdminApp } from './admin-app.js';

const USAGE = 'GET /events[?after=SEQ][&limit=N]: the events after SEQ, at most N (1 to 1000); with Accept: text/event-stream, those and then each new one as it is logged';

/** Followers of one log at once; past it a new one gets 503 (a host logs an event per request: each follower costs it a write). */
const MAX_FOLLOWERS = 16;
/** A follower that lets this much pile up unread is let go: a stalled reader must not grow the server's memory. */
const MAX_BUFFERED_BYTES = 1 << 20;
const followers = new WeakMap<EventLog, number>();

/**
 * `GET /events` on an admin listener (a host's, a client agent's): the
 * Windows-style events of its `EventLog` (12288-12294) as JSON, `{ last,
 * events }`, oldest first; asked with `Accept: text/event-stream`, the same
 * backlog and then one `data:` line per new event, so a follower that
 * reconnects with `after=` misses nothing the log still holds. At most 16
 * follow one log; one that stops reading is let go past 1 MiB unread.
 */
export function eventRoutes(app: AdminApp, log: EventLog): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/events', async (req, reply) => {
    const after = whole(req.query.after ?? '0', 0, Number.MAX_SAFE_INTEGER);
    const limit = whole(req.query.limit ?? String(log.capacity), 1, log.capacity);
    if (after === null || limit === null) return sendLine(reply, 400, USAGE);
    if (!/\btext\/event-stream\b/.test(req.headers.accept ?? '')) return sendJson(reply, 200, { last: log.last, events: log.after(after, limit) });
    const now = followers.get(log) ?? 0;
    if (now >= MAX_FOLLOWERS) return sendLine(reply.header('retry-after', '10'), 503, `${MAX_FOLLOWERS} followers of /events already: try again later, or read /events without following`);
    let off: (() => void) | null = null;
    const res = openEventStream(reply, () => {
      off?.();
      followers.set(log, (followers.get(log) ?? 1) - 1);
    });
    if (!res) return undefined;
    followers.set(log, now + 1);
    res.write(`: kmslab events\n\n${log.after(after, limit).map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}`);
    off = log.follow((e) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else res.write(`data: ${JSON.stringify(e)}\n\n`);
    });
    return undefined;
  });
}

/** A whole number in [min, max] from a query value, or null. */
function whole(text: string, min: number, max: number): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}
