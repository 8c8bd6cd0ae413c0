import { expect } from 'vitest';

/** The documented example's moments (kms-reference.md "Counting") in a `lab run reference-walkthrough --json` timeline. */
export function expectWalkthroughTimeline(timeline: ReadonlyArray<{ minute: number; client: string; count: number | null; licensed: boolean }>): void {
  const at = (client: string, minute: number) => timeline.find((e) => e.client === client && e.minute === minute);
  expect(at('win7-02', 1)).toMatchObject({ count: 2, licensed: false });
  expect(at('server-01', 2)).toMatchObject({ count: 3, licensed: false });
  expect(at('win7-12', 12)).toMatchObject({ count: 13, licensed: false });
  expect(at('server-01', 122)).toMatchObject({ count: 13, licensed: true });
  expect(at('win7-01', 120)).toMatchObject({ count: 13, licensed: false });
}
