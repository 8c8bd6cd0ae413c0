import { KmsLabError, readUserFile } from '@kmslab/core';

/** A secret file is a few lines: a token, or TSIG keys one a line. */
const MAX_SECRET_FILE = 64 * 1024;

/**
 * Secrets can come from a flag (`--admin-token T`, `--tsig-key K`), a file
 * flag, a variable or a variable naming a file (`KMSLAB_ADMIN_TOKEN_FILE`,
 * Docker's secrets pattern). A flag is in the process's command line, which
 * `ps` shows every user of the machine; a variable is readable by the same
 * user only, and a file by whom its mode allows: prefer those.
 */
function readSecretFile(path: string, what: string): string {
  return readUserFile(path, `the ${what} file`, { maxBytes: MAX_SECRET_FILE });
}

/** One secret: the flag, else the file flag, else the file VARIABLE_FILE names (Docker's secrets pattern wins), else VARIABLE; both flags at once is a one-line error. */
export function secretFrom(o: { flag: string | undefined; file: string | undefined; option: string; variable: string; what: string }): string | undefined {
  if (o.flag !== undefined && o.file !== undefined) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Give the ${o.what} once: ${o.option} or ${o.option}-file, not both`);
  if (o.flag !== undefined) return o.flag;
  const file = o.file ?? (process.env[`${o.variable}_FILE`] || undefined);
  if (file !== undefined) {
    const text = readSecretFile(file, o.what).trim();
    if (text === '' || /\s/.test(text)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The ${o.what} file ${file} must hold the ${o.what} alone, on one line`);
    return text;
  }
  return process.env[o.variable] || undefined;
}

/**
 * Several secrets of one kind (the DNS server's TSIG keys): every flag, every
 * line of every file flag (blank lines and `#` comments skipped), the
 * variable's words, and the lines of the file it names.
 */
export function secretsFrom(o: { flags: readonly string[] | undefined; files: readonly string[] | undefined; variable: string; what: string }): string[] {
  const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const variableFile = process.env[`${o.variable}_FILE`] || undefined;
  return [
    ...(o.flags ?? []),
    ...[...(o.files ?? []), ...(variableFile ? [variableFile] : [])].flatMap((f) => lines(readSecretFile(f, o.what))),
    ...(process.env[o.variable] ?? '').split(/\s+/).filter(Boolean),
  ];
}
