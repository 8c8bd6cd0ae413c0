import { Catalog, KmsLabError, TIME, seededRandom, type Product } from '@kmslab/core';

/** The size and mix of a modelled fleet. */
export interface FleetOptions {
  /** Client machines (default 100,000). */
  clients?: number;
  /** Virtual days to simulate (default 180). */
  days?: number;
  /** Machines join at random times over the first this many days (default 30). */
  arrivalDays?: number;
  /** Share of machines that leave the network at a random later time (default 0.1). */
  departures?: number;
  /** Products and their shares (default Windows 10 0.7, Windows Server 2016 0.1, Office 2013 0.2). */
  mix?: Array<{ product: string; share: number }>;
  /** Hosts in the SRV record set, by priority 0, 10, 20… (default 2). */
  hosts?: number;
  /** Outages in virtual minutes (default host 0 from day 60 to day 63). */
  outages?: Array<{ host: number; from: number; to: number }>;
  hostCaching?: boolean;
  seed?: number;
}

/** Who joins when, leaves when, and runs what: the fleet model's input, drawn once so a run repeats. */
export interface FleetPlan {
  products: Product[];
  /** Per client, minutes from the start. */
  joinAt: Float64Array;
  /** Per client, minutes from the start (Infinity: stays). */
  leaveAt: Float64Array;
  /** Per client, index into products. */
  product: Uint8Array;
  hosts: number;
  outages: Array<{ host: number; from: number; to: number }>;
  hostCaching: boolean;
  minutes: number;
}

/** The default mix of client products in the fleet model. */
export const DEFAULT_FLEET_MIX = [
  { product: 'windows-10-enterprise', share: 0.7 },
  { product: 'windows-server-2016-standard', share: 0.1 },
  { product: 'office-2013-professional-plus', share: 0.2 },
];

const DAY_MIN = TIME.DAY_MS / TIME.MINUTE_MS;

/** When each client of a modelled fleet joins and what it runs. */
export function planFleet(options: FleetOptions = {}, catalog = Catalog.load()): FleetPlan {
  const clients = options.clients ?? 100_000;
  const days = options.days ?? 180;
  const arrivalMin = (options.arrivalDays ?? 30) * DAY_MIN;
  const departures = options.departures ?? 0.1;
  const mix = options.mix ?? DEFAULT_FLEET_MIX;
  const hosts = options.hosts ?? 2;
  if (!Number.isInteger(clients) || clients < 1 || clients > 20_000_000) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `A fleet has 1 to 20,000,000 clients, not ${clients}`);
  if (!(days > 0) || !(hosts >= 1 && hosts <= 100)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'A fleet needs days > 0 and 1 to 100 hosts');
  const products = mix.map((m) => catalog.product(m.product));
  const total = mix.reduce((s, m) => s + m.share, 0);
  const random = seededRandom(options.seed ?? 1);
  const joinAt = new Float64Array(clients);
  const leaveAt = new Float64Array(clients).fill(Number.POSITIVE_INFINITY);
  const product = new Uint8Array(clients);
  for (let i = 0; i < clients; i++) {
    joinAt[i] = Math.floor(random() * arrivalMin);
    let pick = random() * total;
    let p = 0;
    while (p < mix.length - 1 && pick >= mix[p]!.share) pick -= mix[p++]!.share;
    product[i] = p;
    if (random() < departures) leaveAt[i] = joinAt[i]! + Math.floor(random() * (days * DAY_MIN - joinAt[i]!));
  }
  const outages = options.outages ?? (hosts > 1 ? [{ host: 0, from: 60 * DAY_MIN, to: 63 * DAY_MIN }] : []);
  return { products, joinAt, leaveAt, product, hosts, outages, hostCaching: options.hostCaching ?? true, minutes: days * DAY_MIN };
}
