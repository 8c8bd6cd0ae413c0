/** Kind of product; the threshold follows from it (kms-reference.md "Counting"). */
export type ProductKind = 'client' | 'server' | 'office';

/**
 * Application family: each has its own count (kms-reference.md "Counting").
 * Built in: `windows` and one per Office version (`office2010` … `office2024`); a user catalog may add more.
 */
export type Family = string;

/** A product in the catalog: its family and kind (hence its threshold), and what a host needs to activate it. */
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly family: Family;
  readonly kind: ProductKind;
  readonly threshold: number;
  /** Windows products: the product key group a host key must cover. */
  readonly keyGroup?: string;
  /** Office products: the host license pack that must be installed. */
  readonly licensePack?: string;
}

/** A KMS host key group (kms-reference.md "Host key groups"). */
export interface KeyGroup {
  readonly id: string;
  readonly name: string;
  readonly kind: 'client' | 'server';
  /** Groups this key also activates (lower groups, previous generation). */
  readonly includes: readonly string[];
  /** kmslab's own lab key for this group; never a Microsoft key. */
  readonly labKey: string;
  /** Where Microsoft documents what this group's host key activates (a URL). */
  readonly source?: string;
}

/** An Office license pack a host installs (kms-reference.md "Host key groups"). */
export interface LicensePack {
  readonly id: string;
  readonly name: string;
  readonly family: Family;
  readonly labKey: string;
  /** Where Microsoft documents the pack (a URL). */
  readonly source?: string;
}

/** What a catalog file holds; every list is optional in a user file. */
export interface CatalogData {
  defaultKeyGroup?: string;
  products?: Array<Omit<Product, 'threshold'> & { threshold?: number }>;
  keyGroups?: KeyGroup[];
  licensePacks?: LicensePack[];
}
