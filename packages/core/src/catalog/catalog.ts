import { THRESHOLDS } from '../constants.js';
import { KmsLabError } from '../errors.js';
import { parseUserJson, readUserFile } from '../user-file.js';
import builtin from './builtin.json' with { type: 'json' };
import type { CatalogData, Family, KeyGroup, LicensePack, Product } from './types.js';
import { validateCatalogData } from './validate.js';

/** How much one catalog may hold (docs/errors.md "File limits"): a host counts and reports every family. */
export const CATALOG_LIMITS = { fileBytes: 4 * 1024 * 1024, products: 10_000, families: 1_000, keyGroups: 1_000, licensePacks: 1_000 } as const;

/** What a host has installed: one host key (its group) and any license packs. */
export interface HostLicense {
  readonly keyGroup: string;
  readonly licensePacks: readonly string[];
}

/**
 * The product catalog: products, host key groups and license packs. Built-in
 * data lives in builtin.json; user files add or replace entries by id.
 */
export class Catalog {
  readonly defaultKeyGroup: string;
  readonly #products = new Map<string, Product>();
  readonly #keyGroups = new Map<string, KeyGroup>();
  readonly #licensePacks = new Map<string, LicensePack>();
  readonly #reach = new Map<string, ReadonlySet<string>>();
  readonly #families: Family[];

  private constructor(layers: Array<{ data: CatalogData; source: string }>) {
    let defaultKeyGroup: string | undefined;
    for (const { data } of layers) {
      defaultKeyGroup = data.defaultKeyGroup ?? defaultKeyGroup;
      for (const p of data.products ?? []) this.#products.set(p.id, { ...p, threshold: p.threshold ?? THRESHOLDS[p.kind] });
      for (const g of data.keyGroups ?? []) this.#keyGroups.set(g.id, g);
      for (const l of data.licensePacks ?? []) this.#licensePacks.set(l.id, l);
    }
    const source = layers.map((l) => l.source).join(' + ');
    if (!defaultKeyGroup || !this.#keyGroups.has(defaultKeyGroup)) {
      throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: defaultKeyGroup "${defaultKeyGroup}" is not a key group`);
    }
    this.defaultKeyGroup = defaultKeyGroup;
    for (const p of this.#products.values()) {
      if (p.keyGroup && !this.#keyGroups.has(p.keyGroup)) {
        throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: product ${p.id} names unknown key group "${p.keyGroup}"`);
      }
      const pack = p.licensePack ? this.#licensePacks.get(p.licensePack) : undefined;
      if (p.licensePack && !pack) {
        throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: product ${p.id} names unknown license pack "${p.licensePack}"`);
      }
      if (pack && pack.family !== p.family) {
        throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: product ${p.id} (family ${p.family}) names license pack ${pack.id} of family ${pack.family}`);
      }
    }
    for (const g of this.#keyGroups.values()) {
      for (const inc of g.includes) {
        if (!this.#keyGroups.has(inc)) throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: key group ${g.id} includes unknown "${inc}"`);
      }
    }
    const families = new Set([...this.#products.values()].map((p) => p.family));
    for (const [what, n, max] of [
      ['products', this.#products.size, CATALOG_LIMITS.products],
      ['families', families.size, CATALOG_LIMITS.families],
      ['key groups', this.#keyGroups.size, CATALOG_LIMITS.keyGroups],
      ['license packs', this.#licensePacks.size, CATALOG_LIMITS.licensePacks],
    ] as const) {
      if (n > max) throw new KmsLabError('KMSLAB_INVALID_CATALOG', `${source}: ${n} ${what}; a catalog holds at most ${max} (docs/errors.md "File limits")`);
    }
    this.#families = [...families];
    for (const id of this.#keyGroups.keys()) this.#reach.set(id, this.#closure(id));
  }

  /** The built-in catalog, plus user catalog files (JSON) in order; later entries replace earlier ones by id. */
  static load(files: readonly string[] = []): Catalog {
    const layers = [{ data: validateCatalogData(builtin, 'built-in catalog'), source: 'built-in catalog' }];
    for (const file of files) {
      const text = readUserFile(file, 'catalog', { maxBytes: CATALOG_LIMITS.fileBytes, code: 'KMSLAB_INVALID_CATALOG' });
      const raw = parseUserJson(text, file, 'KMSLAB_INVALID_CATALOG');
      layers.push({ data: validateCatalogData(raw, file), source: file });
    }
    return new Catalog(layers);
  }

  products(): Product[] {
    return [...this.#products.values()];
  }

  keyGroups(): KeyGroup[] {
    return [...this.#keyGroups.values()];
  }

  licensePacks(): LicensePack[] {
    return [...this.#licensePacks.values()];
  }

  families(): Family[] {
    return [...this.#families];
  }

  findProduct(id: string): Product | undefined {
    return this.#products.get(id);
  }

  product(id: string): Product {
    const p = this.#products.get(id);
    if (!p) throw new KmsLabError('KMSLAB_UNKNOWN_PRODUCT', `Unknown product "${id}"; \`kmslab products\` lists the catalog`);
    return p;
  }

  keyGroup(idOrLabKey: string): KeyGroup {
    const g = this.#keyGroups.get(idOrLabKey) ?? this.keyGroups().find((k) => k.labKey === idOrLabKey);
    if (!g) {
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Unknown key group "${idOrLabKey}"; known: ${[...this.#keyGroups.keys()].join(', ')}`);
    }
    return g;
  }

  licensePack(idOrLabKey: string): LicensePack {
    const l = this.#licensePacks.get(idOrLabKey) ?? this.licensePacks().find((k) => k.labKey === idOrLabKey);
    if (!l) {
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Unknown license pack "${idOrLabKey}"; known: ${[...this.#licensePacks.keys()].join(', ')}`);
    }
    return l;
  }

  /** Key groups a host key of `keyGroup` activates: itself and all it includes (kms-reference.md "Host key groups"). */
  activatedKeyGroups(keyGroup: string): ReadonlySet<string> {
    return this.#reach.get(this.keyGroup(keyGroup).id)!;
  }

  /** Windows products need the host's key group to cover theirs; Office needs the license pack installed. */
  canActivate(host: HostLicense, product: Product): boolean {
    if (product.licensePack) return host.licensePacks.includes(product.licensePack);
    return product.keyGroup !== undefined && this.activatedKeyGroups(host.keyGroup).has(product.keyGroup);
  }

  #closure(id: string): ReadonlySet<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...this.#keyGroups.get(g)!.includes);
    }
    return seen;
  }
}
