import type { Command } from 'commander';
import { UsageError } from './errors';

/** Every command path (`topic create`, …) with its subcommands and options, read from the program itself. */
interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
}

const walk = (command: Command, path: string[] = []): Node[] => {
  const options = [...command.options.flatMap((o) => [o.short, o.long]), '--help'].filter(
    (flag): flag is string => typeof flag === 'string',
  );
  const subcommands = command.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  return [{ path, subcommands, options }, ...command.commands.flatMap((c) => walk(c, [...path, c.name()]))];
};

const globalOptions = (program: Command) =>
  program.options.flatMap((o) => [o.short, o.long]).filter((flag): flag is string => typeof flag === 'string');

/** A bash completion script: `source <(runnel completion bash)`. */
export const bashCompletion = (program: Command): string => {
  const nodes = walk(program);
  const globals = globalOptions(program).join(' ');
  const cases = nodes
    .map((n) => `    "${n.path.join(' ')}") words="${[...n.subcommands, ...n.options].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for runnel; add to ~/.bashrc:  source <(runnel completion bash)
_runnel() {
  local cur path word i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    case "$path" in
${nodes
  .filter((n) => n.subcommands.length > 0)
  .map(
    (n) =>
      `      "${n.path.join(' ')}") case "$word" in ${n.subcommands.join('|')}) path="\${path:+$path }$word" ;; esac ;;`,
  )
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words ${globals}" -- "$cur"))
}
complete -o default -F _runnel runnel
`;
};

/** A zsh completion script: `source <(runnel completion zsh)` (or save it as `_runnel` on your fpath). */
export const zshCompletion = (program: Command): string =>
  `#compdef runnel
# zsh completion for runnel; add to ~/.zshrc:  source <(runnel completion zsh)
# (bash's script, through zsh's bash completion emulation: one source of truth for both shells)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;

export const registerCompletion = (program: Command) => {
  program
    .command('completion')
    .description('print a shell completion script for bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      `
Examples:
  $ source <(runnel completion bash)     # in ~/.bashrc
  $ source <(runnel completion zsh)      # in ~/.zshrc`,
    )
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else throw new UsageError(`no completion for "${shell}": use bash or zsh`);
    });
};
