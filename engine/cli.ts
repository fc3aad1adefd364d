// The `limelight` command line (bundled as dist/cli.js). Finds the subcommand, parses its
// options, and turns every failure into a message on stderr and a non-zero exit code:
// 2 for a mistake in the command line, 1 for anything else (set LIMELIGHT_DEBUG=1 for the stack).
import { formatHelp, parseArgs, UsageError } from './cli/args';
import { COMMANDS } from './cli/commands';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `limelight: a local GPT engine (GPT-2 and Llama checkpoints in Hugging Face layout).\n\nUsage: limelight <command> [options]\n\nCommands:\n${list}\n\nRun \`limelight <command> --help\` for a command's options.\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`limelight: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}.\nHint: run \`limelight --help\`.\n`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command.options, command.positionals);
    if (args.flag('help')) {
      process.stdout.write(formatHelp(command.name, command.summary, command.usage, command.options));
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof UsageError) {
      process.stderr.write(`limelight ${name}: ${e.message}\nHint: run \`limelight ${name} --help\`.\n`);
      return 2;
    }
    process.stderr.write(`limelight ${name}: ${e.message}\n`);
    if (process.env.LIMELIGHT_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    return 1;
  }
}

// A reader that closes early (`limelight generate ... | head`) is not an error: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`limelight: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
