import { Command } from 'commander';
import { DEFAULT_ADMIN_ADDRESS, KmsLabError, type KmsEvent } from '@kmslab/core';
import { printJson } from '../output.js';
import { intOption } from '../options.js';
import { adminBase, adminFetch, askingAdmin, type AdminTokenFlags } from '../admin-token.js';
import { readEventStream } from '../event-stream.js';

/** One event as a line, as Event Viewer lists them: time, id, who logged it, what it says. */
export function formatEvent(e: KmsEvent): string {
  return `${e.time}  ${e.id}  ${e.source}  ${describe(e)}`;
}

function describe(e: KmsEvent): string {
  switch (e.id) {
    case 12288:
      return `activation request sent to ${e.server}: ${e.hresult} (${e.activationId}, ${e.licenseStatus}, needs a count of ${e.minimumCount}, cmid ${e.cmid})`;
    case 12289:
      return `answer processed: ${e.hresult}, ${e.activated ? 'activated' : 'not activated'}, count ${e.currentCount}, intervals ${e.activationIntervalMin}/${e.renewalIntervalMin} min`;
    case 12290:
      return `request from ${e.fqdn || e.cmid} (${e.peer}): ${e.hresult}, count ${e.currentCount ?? '-'} of ${e.minimumCount}, ${e.activationId}, ${e.licenseStatus}`;
    case 12293:
      return `publishing in DNS domain ${e.domain} failed: ${e.dnsError} (${e.hresult})`;
    case 12294:
      return `published in DNS domain ${e.domain} (${e.fqdn})`;
  }
}

interface EventsFlags extends AdminTokenFlags {
  admin: string;
  after: number;
  follow?: boolean;
  json?: boolean;
}

/** `kmslab host events`: a host's event log (12290 per request, 12293/12294 for DNS publishing), like Event Viewer's Key Management Service log. */
export function hostEventsCommand(): Command {
  return askingAdmin(new Command('events').description("show a running host's events, as Windows logs them: 12290 per request, 12293/12294 for DNS publishing"), {
    description: "the host's admin listener", default: `http://${DEFAULT_ADMIN_ADDRESS}`,
  })
    .option('--after <seq>', 'only events after this one', intOption('--after', 0, Number.MAX_SAFE_INTEGER), 0)
    .option('--follow', 'keep printing events as they are logged (Ctrl-C stops)')
    .option('--json', 'one JSON object per event, a line each')
    .action(async (o: EventsFlags) => {
      const base = adminBase(o.admin);
      const url = new URL(`/events?after=${o.after}`, base);
      const print = (e: KmsEvent) => process.stdout.write(`${o.json ? JSON.stringify(e) : formatEvent(e)}\n`);
      const res = await adminFetch(base, url, o, { headers: o.follow ? { accept: 'text/event-stream' } : {}, ...(!o.follow && { signal: AbortSignal.timeout(5000) }) });
      if (!res.ok) throw new KmsLabError('KMSLAB_CONNECTION_FAILED', `${url.href}: HTTP ${res.status} ${(await res.text()).trim()}`);
      if (!o.follow) {
        const { events } = (await res.json()) as { events: KmsEvent[] };
        if (o.json && events.length === 0) return;
        for (const e of events) print(e);
        if (!o.json && events.length === 0) process.stdout.write('no events yet\n');
        return;
      }
      // Server-sent events: one `data:` line of JSON per event, until the host goes or Ctrl-C.
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await readEventStream(res, print, stop.signal);
    });
}
