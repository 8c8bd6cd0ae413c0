import { Argument, Command } from 'commander';
import { KmsLabError } from '@kmslab/core';

interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
}

/** Every command path with its subcommands and options, from the program itself (so completion never goes stale). */
function commandTree(root: Command): Node[] {
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const options = cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => Boolean(f));
    nodes.push({ path, subcommands: cmd.commands.map((c) => c.name()), options: [...options, '--help'] });
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(root, []);
  return nodes;
}

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) => `    "${n.path.join(' ')}") echo "${[...n.subcommands, ...n.options].join(' ')}" ;;`).join('\n');
  return `# kmslab completion for bash: eval "$(kmslab completion bash)" (or save it under /etc/bash_completion.d/)
_kmslab_words() {
  case "$1" in
${cases}
    *) return 1 ;;
  esac
}
_kmslab() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w words
  # The command path: the words so far that are not options (option values are trimmed off below).
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  until words=$(_kmslab_words "$path"); do
    case "$path" in *" "*) path="\${path% *}" ;; *) path="" ;; esac
  done
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _kmslab kmslab
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef kmslab
# kmslab completion for zsh: kmslab completion zsh > "\${fpath[1]}/_kmslab"
${bash(nodes).replace(/^# .*\n/, '')}`.replace('complete -o default -F _kmslab kmslab', 'autoload -U +X bashcompinit && bashcompinit\ncomplete -o default -F _kmslab kmslab');
}

function fish(nodes: Node[]): string {
  const lines = ['# kmslab completion for fish: kmslab completion fish > ~/.config/fish/completions/kmslab.fish', 'complete -c kmslab -f'];
  for (const n of nodes) {
    const condition = n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const s of n.subcommands) lines.push(`complete -c kmslab -n '${condition}' -a ${s}`);
    for (const o of n.options.filter((x) => x.startsWith('--'))) lines.push(`complete -c kmslab -n '${condition}' -l ${o.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommand(root: () => Command): Command {
  return new Command('completion')
    .description('print a shell completion script for kmslab')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action((shell: string) => {
      const nodes = commandTree(root());
      const script = shell === 'bash' ? bash(nodes) : shell === 'zsh' ? zsh(nodes) : shell === 'fish' ? fish(nodes) : null;
      if (script === null) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `No completion for ${shell}; use bash, zsh or fish`);
      process.stdout.write(script);
    });
}
