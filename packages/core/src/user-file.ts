import { openSync, closeSync, fstatSync, readSync } from 'node:fs';
import { KmsLabError, type ErrorCode } from './errors.js';

/**
 * Files users name on the command line (catalogs, zone files, configs,
 * scenarios): errors say which file and which line, never what the file
 * holds (a path given by mistake may be a secret, like /etc/shadow).
 */
export function readUserFile(path: string, what: string, options: { maxBytes: number; code?: ErrorCode }): string {
  const code = options.code ?? 'KMSLAB_INVALID_ARGUMENT';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new KmsLabError(code, `Cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > options.maxBytes) {
      throw new KmsLabError(code, `${what} ${path} is ${size} bytes; the limit is ${options.maxBytes} (docs/errors.md "File limits")`);
    }
    // Read at most one byte past the limit: a file that grows, or a pipe, cannot make us hold more.
    const buf = Buffer.alloc(options.maxBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > options.maxBytes) throw new KmsLabError(code, `${what} ${path} is over the ${options.maxBytes}-byte limit (docs/errors.md "File limits")`);
    const text = buf.toString('utf8', 0, n);
    return text;
  } catch (err) {
    if (err instanceof KmsLabError) throw err;
    throw new KmsLabError(code, `Cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'read failed'}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** JSON.parse whose error names the source and line (from the parser's position), never the text around it. */
export function parseUserJson(text: string, source: string, code: ErrorCode = 'KMSLAB_INVALID_ARGUMENT'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /line (\d+)/.exec((err as Error).message);
    const position = /position (\d+)/.exec((err as Error).message);
    const line = m ? Number(m[1]) : position ? text.slice(0, Number(position[1])).split('\n').length : null;
    throw new KmsLabError(code, `${source}${line === null ? '' : ` line ${line}`}: not valid JSON`, { cause: err });
  }
}
