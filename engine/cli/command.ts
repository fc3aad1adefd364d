// What a `limelight` subcommand is. Each lives in its own file under cli/commands/ and is
// listed once in cli/commands.ts; the entry point (cli.ts) parses its options, prints its
// --help and turns its errors into messages and exit codes.
import type { OptionSpec, ParsedArgs } from './args';

export interface CliCommand {
  name: string;
  /** One line for `limelight --help`. */
  summary: string;
  /** What follows `limelight <name>` in the usage line. */
  usage: string;
  options: readonly OptionSpec[];
  /** How many arguments that are not options it takes (`download OWNER/REPO [FILE]`: 2); default none. */
  positionals?: number;
  /** Resolves to the process exit code (0 on success). */
  run(args: ParsedArgs): Promise<number>;
}
