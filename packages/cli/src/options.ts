import { KmsLabError, parseDurationMs } from '@kmslab/core';

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} must be a whole number from ${min} to ${max} (got "${value}")`);
    }
    return n;
  };
}

/** "30s", "2m", "1h30m" (parseDurationMs) in milliseconds. */
export function durationOption(name: string) {
  return (value: string): number => {
    const ms = parseDurationMs(value);
    if (ms === null) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} must be a duration such as 30s, 2m or 1h (got "${value}")`);
    return ms;
  };
}

export function numberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} must be a number from ${min} to ${max} (got "${value}")`);
    return n;
  };
}
