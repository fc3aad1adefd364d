// Every `limelight` subcommand, in the order `limelight --help` lists them. A new command is
// a file under cli/commands/ exporting a CliCommand, plus one line here.
import type { CliCommand } from './command';
import { exportOnnxCommand } from './commands/exportOnnx';
import { exportGgufCommand } from './commands/exportGguf';
import { forwardCommand } from './commands/forward';
import { generateCommand } from './commands/generate';
import { trainCommand } from './commands/train';
import { trainStepCommand } from './commands/trainStep';
import { infoCommand } from './commands/info';
import { tokenizeCommand } from './commands/tokenize';
import { completeCommand } from './commands/complete';
import { modelsCommand } from './commands/models';
import { downloadCommand } from './commands/download';
import { evalCommand } from './commands/eval';

export const COMMANDS: readonly CliCommand[] = [modelsCommand, downloadCommand, infoCommand, tokenizeCommand, completeCommand, generateCommand, evalCommand, forwardCommand, trainCommand, trainStepCommand, exportOnnxCommand, exportGgufCommand];
