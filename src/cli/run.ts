import { describeError, isMulletError } from '../core/errors.js';
import { formatHelp, parseArgs, type CliIo, type CommandSpec } from './command.js';
import { exitCodeFor } from './exit.js';
import { guardStdout } from './output.js';
import { COMMANDS, assertUniquePaths, findCommand } from './registry.js';

function topHelp(commands: readonly CommandSpec[], prefix: readonly string[] = []): string {
  const shown = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...shown.map((c) => c.path.join(' ').length)) + 2;
  const lines = [
    `Usage: mullet ${prefix.length ? prefix.join(' ') + ' ' : ''}<command> [options]`,
    '',
    'Mullet: Bitcoin mining in the back, AI compute in the front.',
    '',
    'Commands:',
    ...shown.map((c) => `  ${c.path.join(' ').padEnd(width)} ${c.summary}`),
    '',
    "Run 'mullet <command> --help' for its options and units.",
  ];
  return lines.join('\n') + '\n';
}

/** Runs the CLI in-process (tests call this directly) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  assertUniquePaths(COMMANDS);
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (words.length === 0) {
    if (argv.includes('--version')) {
      io.stdout('mullet 0.1.0\n');
      return 0;
    }
    io[wantsHelp ? 'stdout' : 'stderr'](topHelp(COMMANDS));
    return wantsHelp ? 0 : 2;
  }
  const found = findCommand(words);
  if (!found) {
    const group = COMMANDS.some((c) => words.every((w, i) => c.path[i] === w));
    if (group) {
      io[wantsHelp ? 'stdout' : 'stderr'](topHelp(COMMANDS, words));
      return wantsHelp ? 0 : 2;
    }
    io.stderr(`mullet: unknown command '${words.join(' ')}'\n\n${topHelp(COMMANDS)}`);
    return 2;
  }
  const { cmd } = found;
  if (wantsHelp) {
    io.stdout(formatHelp(cmd));
    return 0;
  }
  try {
    const args = parseArgs(cmd, argv.slice(cmd.path.length), io.env);
    const code = await cmd.run(args, guardStdout(io));
    return code ?? 0;
  } catch (err) {
    const code = exitCodeFor(err);
    io.stderr(`mullet ${cmd.path.join(' ')}: ${describeError(err)}\n`);
    if (code === 2) io.stderr(`(see 'mullet ${cmd.path.join(' ')} --help')\n`);
    else if (!isMulletError(err) && err instanceof Error && err.stack && io.env.MULLET_DEBUG) io.stderr(err.stack + '\n');
    return code;
  }
}
