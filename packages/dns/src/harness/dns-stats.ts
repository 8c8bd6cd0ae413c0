import { rcodeName, typeName } from '@kmslab/dns-wire';
import type { Handled } from '../path/exchange.js';

/** Latency bucket bounds (ms) for the histogram on /metrics. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 50, 100, 500, 1000, 5000] as const;

/**
 * What the DNS server answered, counted as it goes (plain counters on the hot
 * path; /metrics formats them only when scraped): queries by type, rcode and
 * transport, updates accepted and refused by reason, faults applied by
 * action, and a latency histogram.
 */
export class DnsStats {
  /** Key: (qtype << 5 | rcode + 1) << 1 | tcp — numbers, so counting makes no strings. */
  readonly queries = new Map<number, number>();
  readonly updates = new Map<string, number>();
  readonly faults = new Map<string, number>();
  readonly latencyBuckets: number[] = LATENCY_BUCKETS_MS.map(() => 0);
  latencyCount = 0;
  latencySumMs = 0;
  /** Updates answered SERVFAIL because the zone could not be saved. */
  zoneSaveFailures = 0;
  /** Delayed answers let go because too many were waiting (delay faults under a flood). */
  delayedDropped = 0;

  count(out: Handled, transport: 'udp' | 'tcp', latencyMs: number): void {
    if (out.kind === 'update' || (out.kind === 'notauth' && out.reason === 'tsig')) {
      const key = out.rcode === 0 ? 'accepted|' : `refused|${out.reason ?? 'other'}`;
      this.updates.set(key, (this.updates.get(key) ?? 0) + 1);
    } else {
      const key = ((((out.qtype ?? 0) << 5) | ((out.rcode ?? -1) + 1)) << 1) | (transport === 'tcp' ? 1 : 0);
      this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
    }
    if (out.fault) this.faults.set(out.fault.action.kind, (this.faults.get(out.fault.action.kind) ?? 0) + 1);
    this.latencyCount++;
    this.latencySumMs += latencyMs;
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
      if (latencyMs <= LATENCY_BUCKETS_MS[i]!) {
        this.latencyBuckets[i]!++;
        break;
      }
    }
  }

  /** Prometheus text (the counters above, with their labels, and the query log's; docs/metrics.md "DNS server"). */
  prometheus(log: { linesDropped: number; followers: number; followersDropped: number } | null = null, tcpConnections = 0): string {
    const out: string[] = [];
    const family = (name: string, help: string, type: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('kmslab_dns_queries_total', 'Queries answered (or dropped), by query type, rcode and transport', 'counter');
    for (const [key, n] of this.queries) {
      const qtype = key >>> 6;
      const rcode = ((key >>> 1) & 0x1f) - 1;
      const type = qtype === 0 ? 'none' : typeName(qtype);
      out.push(`kmslab_dns_queries_total{type="${type}",rcode="${rcode < 0 ? 'none' : rcodeName(rcode)}",transport="${key & 1 ? 'tcp' : 'udp'}"} ${n}`);
    }
    family('kmslab_dns_updates_total', 'Dynamic updates, by result (accepted, refused) and the reason for a refusal', 'counter');
    for (const [key, n] of this.updates) {
      const [result, reason] = key.split('|');
      out.push(`kmslab_dns_updates_total{result="${result}",reason="${escape(reason!)}"} ${n}`);
    }
    family('kmslab_dns_faults_applied_total', 'Queries and updates a fault rule changed, by action', 'counter');
    for (const [action, n] of this.faults) out.push(`kmslab_dns_faults_applied_total{action="${action}"} ${n}`);
    family('kmslab_dns_latency_seconds', 'Time from a query arriving to its answer leaving (a delay fault included)', 'histogram');
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      cumulative += this.latencyBuckets[i]!;
      out.push(`kmslab_dns_latency_seconds_bucket{le="${le / 1000}"} ${cumulative}`);
    });
    out.push(`kmslab_dns_latency_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    out.push(`kmslab_dns_latency_seconds_sum ${this.latencySumMs / 1000}`, `kmslab_dns_latency_seconds_count ${this.latencyCount}`);
    family('kmslab_dns_zone_save_failures_total', 'Dynamic updates refused (SERVFAIL) because the changed zone could not be saved', 'counter');
    out.push(`kmslab_dns_zone_save_failures_total ${this.zoneSaveFailures}`);
    family('kmslab_dns_tcp_connections', 'TCP connections open now', 'gauge');
    out.push(`kmslab_dns_tcp_connections ${tcpConnections}`);
    family('kmslab_dns_delayed_answers_dropped_total', 'Answers held by a delay fault that were let go because too many were waiting', 'counter');
    out.push(`kmslab_dns_delayed_answers_dropped_total ${this.delayedDropped}`);
    if (log) {
      family('kmslab_dns_query_log_lines_dropped_total', 'Query log lines the --query-log file could not take (a full disk)', 'counter');
      out.push(`kmslab_dns_query_log_lines_dropped_total ${log.linesDropped}`);
      family('kmslab_dns_query_log_followers', 'Followers of /queries/stream now', 'gauge');
      out.push(`kmslab_dns_query_log_followers ${log.followers}`);
      family('kmslab_dns_query_log_followers_dropped_total', 'Followers of /queries/stream disconnected for falling behind', 'counter');
      out.push(`kmslab_dns_query_log_followers_dropped_total ${log.followersDropped}`);
    }
    return `${out.join('\n')}\n`;
  }
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');
