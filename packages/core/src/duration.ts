const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * "90m", "2h", "3d", "1w", "2d3h", "3h59m", "45s": one duration form for
 * scenario files and flags. `signed` also takes "+1d" and "-5h" (offsets,
 * clock jumps). Milliseconds, or null when the text is not a duration.
 */
export function parseDurationMs(text: string, options: { signed?: boolean } = {}): number | null {
  const m = /^([+-]?)((?:\d+(?:\.\d+)?\s*[smhdw]\s*)+)$/.exec(text.trim());
  if (!m || (m[1] && !options.signed)) return null;
  let total = 0;
  for (const [, n, unit] of m[2]!.matchAll(/(\d+(?:\.\d+)?)\s*([smhdw])/g)) total += Number(n) * UNIT_MS[unit!]!;
  return m[1] === '-' ? -total : total;
}
