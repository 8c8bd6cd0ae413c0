import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsLabError } from '../errors.js';
import { Catalog } from './catalog.js';

const catalog = Catalog.load();
const can = (keyGroup: string, product: string, licensePacks: string[] = []) => catalog.canActivate({ keyGroup, licensePacks }, catalog.product(product));

describe('built-in catalog', () => {
  test('thresholds follow the kind: client 25, server 5, Office 5 (kms-reference.md "Counting")', () => {
    for (const p of catalog.products()) expect(p.threshold).toBe({ client: 25, server: 5, office: 5 }[p.kind]);
    expect(catalog.product('windows-7-professional')).toMatchObject({ family: 'windows', kind: 'client', threshold: 25 });
    expect(catalog.product('windows-server-2008-r2-enterprise')).toMatchObject({ family: 'windows', kind: 'server', threshold: 5 });
    expect(catalog.product('office-2013-professional-plus')).toMatchObject({ family: 'office2013', kind: 'office', threshold: 5 });
  });

  test('holds the generations the issue names', () => {
    const names = catalog.products().map((p) => p.name).join('\n');
    for (const n of ['Vista', 'Windows 8.1', 'Windows 10', 'Server 2008 Standard', 'Server 2012 R2', 'Office Professional Plus 2010']) expect(names).toContain(n);
    expect(catalog.families()).toEqual(['windows', 'office2010', 'office2013', 'office2016', 'office2019', 'office2021', 'office2024']);
  });

  test("today's products: Windows 11, Server 2019-2025, Windows 10 LTSC, Office 2016 to LTSC 2024 with Project and Visio; the default group is the newest server group", () => {
    for (const id of ['windows-11-pro', 'windows-11-enterprise', 'windows-11-education', 'windows-11-enterprise-ltsc-2024', 'windows-11-iot-enterprise-ltsc-2024', 'windows-10-enterprise-ltsc-2019', 'windows-10-enterprise-ltsc-2021']) {
      expect(catalog.product(id)).toMatchObject({ family: 'windows', kind: 'client', threshold: 25 });
    }
    for (const y of [2019, 2022, 2025]) for (const e of ['standard', 'datacenter']) expect(catalog.product(`windows-server-${y}-${e}`)).toMatchObject({ kind: 'server', threshold: 5, keyGroup: `windows-server-${y}` });
    for (const [pack, family, ids] of [
      ['office-2016', 'office2016', ['office-2016-professional-plus', 'project-2016-professional', 'visio-2016-professional']],
      ['office-2019', 'office2019', ['office-2019-professional-plus', 'project-2019-professional', 'visio-2019-professional']],
      ['office-ltsc-2021', 'office2021', ['office-ltsc-2021-professional-plus', 'project-2021-professional', 'visio-ltsc-2021-professional']],
      ['office-ltsc-2024', 'office2024', ['office-ltsc-2024-professional-plus', 'project-2024-professional', 'visio-ltsc-2024-professional']],
    ] as const) {
      for (const id of ids) expect(catalog.product(id)).toMatchObject({ family, kind: 'office', threshold: 5, licensePack: pack });
      expect(catalog.licensePack(pack).source).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    }
    expect(catalog.defaultKeyGroup).toBe('windows-server-2025');
    for (const g of ['windows-server-2019', 'windows-server-2022', 'windows-server-2025']) expect(catalog.keyGroup(g).source).toMatch(/kms-activation-planning$/);
  });

  test('no Microsoft key of any kind: every key is a KMSLAB- lab key', () => {
    const keys = [...catalog.keyGroups(), ...catalog.licensePacks()].map((k) => k.labKey);
    for (const k of keys) {
      expect(k).toMatch(/^KMSLAB-/);
      expect(k).not.toMatch(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/);
    }
  });
});

describe('host key groups (kms-reference.md "Host key groups")', () => {
  // Microsoft's "KMS activation planning" tables: what each CSVLK group's host activates.
  test('Server 2025 activates every Windows in the catalog, Windows 11 Enterprise LTSC 2024 included', () => {
    for (const p of catalog.products().filter((x) => x.family === 'windows')) expect(can('windows-server-2025', p.id), p.id).toBe(true);
  });

  test('Server 2022 activates Windows 11 and Server 2022, not Server 2025 or Windows 11 LTSC 2024', () => {
    for (const id of ['windows-11-pro', 'windows-11-education', 'windows-server-2022-datacenter', 'windows-server-2019-standard', 'windows-10-enterprise-ltsc-2021', 'windows-7-professional']) expect(can('windows-server-2022', id), id).toBe(true);
    for (const id of ['windows-server-2025-standard', 'windows-11-enterprise-ltsc-2024', 'windows-11-iot-enterprise-ltsc-2024']) expect(can('windows-server-2022', id), id).toBe(false);
  });

  test('Server 2019 activates Windows 10 Enterprise LTSC and Server 2019, not Windows 11; Server 2016 neither LTSC 2019', () => {
    expect(can('windows-server-2019', 'windows-10-enterprise-ltsc-2019')).toBe(true);
    expect(can('windows-server-2019', 'windows-server-2019-datacenter')).toBe(true);
    expect(can('windows-server-2019', 'windows-11-pro')).toBe(false);
    expect(can('windows-server-2016', 'windows-10-enterprise-ltsc-2019')).toBe(false);
    expect(can('windows-server-2016', 'windows-server-2019-standard')).toBe(false);
  });

  test('each Office version needs its own pack: LTSC 2024 does not activate 2021 or 2019', () => {
    expect(can('windows-server-2025', 'office-ltsc-2024-professional-plus', ['office-ltsc-2024'])).toBe(true);
    expect(can('windows-server-2025', 'visio-ltsc-2024-professional', ['office-ltsc-2024'])).toBe(true);
    expect(can('windows-server-2025', 'office-ltsc-2021-professional-plus', ['office-ltsc-2024'])).toBe(false);
    expect(can('windows-server-2025', 'office-2019-professional-plus', ['office-ltsc-2024'])).toBe(false);
    expect(can('windows-server-2025', 'office-ltsc-2024-professional-plus')).toBe(false);
  });

  test('a client VL key activates client OS only, including the previous generation', () => {
    expect(can('windows-7', 'windows-7-enterprise')).toBe(true);
    expect(can('windows-7', 'windows-vista-business')).toBe(true);
    expect(can('windows-7', 'windows-web-server-2008-r2')).toBe(false);
    expect(can('windows-7', 'windows-10-pro')).toBe(false);
  });

  test('group B activates groups A and B and Client VL of its generation and the previous one, not group C', () => {
    for (const p of ['windows-web-server-2008-r2', 'windows-server-2008-r2-standard', 'windows-7-professional', 'windows-server-2008-enterprise', 'windows-compute-cluster-server-2008']) {
      expect(can('windows-server-2008-r2-b', p), p).toBe(true);
    }
    expect(can('windows-server-2008-r2-b', 'windows-server-2008-r2-datacenter')).toBe(false);
    expect(can('windows-server-2008-r2-c', 'windows-server-2008-r2-datacenter')).toBe(true);
  });

  test('the default key group activates every Windows product in the catalog', () => {
    for (const p of catalog.products().filter((x) => x.family === 'windows')) expect(can(catalog.defaultKeyGroup, p.id), p.id).toBe(true);
  });

  test('Office needs its license pack, whatever the key group', () => {
    expect(can(catalog.defaultKeyGroup, 'office-2013-professional-plus')).toBe(false);
    expect(can(catalog.defaultKeyGroup, 'office-2013-professional-plus', ['office-2010'])).toBe(false);
    expect(can('windows-7', 'office-2013-professional-plus', ['office-2013'])).toBe(true);
  });

  test('key groups and packs are found by id or lab key; unknown ones are a clear error', () => {
    expect(catalog.keyGroup('KMSLAB-HOST-WIN7').id).toBe('windows-7');
    expect(catalog.licensePack('KMSLAB-PACK-OFFICE2013').id).toBe('office-2013');
    expect(() => catalog.keyGroup('nope')).toThrow(/Unknown key group "nope"; known: windows-vista/);
  });
});

describe('user catalog files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmslab-catalog-'));
  const file = (name: string, data: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
    return path;
  };

  test('adds a product, a family with its license pack, and a key group', () => {
    const path = file('ok.json', {
      products: [
        { id: 'office-2016-professional-plus', name: 'Office Professional Plus 2016', family: 'office2016', kind: 'office', licensePack: 'office-2016' },
        { id: 'windows-11-pro', name: 'Windows 11 Pro', family: 'windows', kind: 'client', keyGroup: 'windows-11' },
      ],
      licensePacks: [{ id: 'office-2016', name: 'Office 2016 pack', family: 'office2016', labKey: 'KMSLAB-PACK-OFFICE2016' }],
      keyGroups: [{ id: 'windows-11', name: 'Windows 11 client VL', kind: 'client', includes: ['windows-10'], labKey: 'KMSLAB-HOST-WIN11' }],
    });
    const c = Catalog.load([path]);
    expect(c.product('office-2016-professional-plus').threshold).toBe(5);
    expect(c.families()).toContain('office2016');
    expect(c.canActivate({ keyGroup: 'windows-11', licensePacks: [] }, c.product('windows-7-professional'))).toBe(true);
  });

  test('a bad file names the file and the field', () => {
    expect(() => Catalog.load([file('bad-kind.json', { products: [{ id: 'x', name: 'X', family: 'windows', kind: 'phone', keyGroup: 'windows-7' }] })])).toThrow(
      /bad-kind\.json: products\[0\]\.kind: must be client, server or office/,
    );
    expect(() => Catalog.load([file('bad-ref.json', { products: [{ id: 'x', name: 'X', family: 'windows', kind: 'client', keyGroup: 'windows-99' }] })])).toThrow(
      /product x names unknown key group "windows-99"/,
    );
    const err = (() => {
      try {
        Catalog.load([file('broken.json', '{ nope')]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KmsLabError);
    expect((err as KmsLabError).code).toBe('KMSLAB_INVALID_CATALOG');
  });
});
