import { readFileSync } from 'node:fs';

/** One fenced block of a Markdown file: its language, its text, and the line it starts on. */
export interface CodeBlock {
  lang: string;
  code: string;
  line: number;
}

/** Every fenced block with a language (```sh, ```ts…); a bare ``` or ```text fence is a picture or a synopsis, not something to run. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open || open[1] === 'text') {
      if (lines[i]!.startsWith('```')) while (++i < lines.length && !lines[i]!.startsWith('```'));
      continue;
    }
    const start = i + 1;
    while (++i < lines.length && !lines[i]!.startsWith('```'));
    out.push({ lang: open[1]!, code: `${lines.slice(start, i).join('\n')}\n`, line: start });
  }
  return out;
}

/** The one block of `lang` in `file` (a test that runs a README's example as written). */
export function codeBlock(file: string, lang: string): string {
  const found = codeBlocks(file).filter((b) => b.lang === lang);
  if (found.length !== 1) throw new Error(`${file} has ${found.length} \`\`\`${lang} blocks, not one`);
  return found[0]!.code;
}
