import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
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

/** A file to write later: its folder exists and may be written, and it is no folder itself. Checked when the flag is read. */
export function writableFileOption(name: string) {
  return (value: string): string => {
    const folder = dirname(resolve(value));
    try {
      if (!statSync(folder).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
      accessSync(folder, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unwritable';
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} ${value}: its folder ${folder} ${code === 'ENOENT' ? 'does not exist' : `cannot be written (${code})`}`);
    }
    let isFolder = false;
    try {
      isFolder = statSync(value).isDirectory();
    } catch {
      // Not there yet: it will be made.
    }
    if (isFolder) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} ${value} is a folder: give a file name`);
    return value;
  };
}

/** One of `choices`, as commander's choices do, but in kmslab's own one-line form. */
export function choiceOption(name: string, choices: readonly string[]) {
  return (value: string): string => {
    if (!choices.includes(value)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${name} must be one of ${choices.join(', ')} (got "${value}")`);
    return value;
  };
}

/** `--log-level`, the same on every long-running command (pino's levels). */
export function logLevelOption(defaultLevel: string): Option {
  return new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default(defaultLevel);
}

export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'log format (default: pretty on a terminal, else json)').choices(['json', 'pretty']);
}

/** `--profile`: what the client sends on the wire while it looks (@kmslab/client client-profile.ts). */
export function profileOption(): Option {
  return new Option('--profile <profile>', 'windows: as a Windows 11 client, _VLMCS._TCP in upper case after a domain-controller locator query in suffix domains; plain: _vlmcs._tcp only')
    .choices(['windows', 'plain'])
    .default('windows');
}
