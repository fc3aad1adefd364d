// A first run that leads somewhere: with no model to complete with (none set, no starter model
// in this build, no remote server), the status bar item reads "Select Model" until a model
// loads, and the first time the user types where a completion would come, one calm notification
// offers Select Model (the models already on this machine first) and Download Model. Not at
// start-up: the user meets it when they meet the missing model. Once per window at most, and
// never again after "Don't Show Again".
import * as vscode from 'vscode';
import { needsModel, type EngineStatus } from './statusBar';

const DISMISSED_KEY = 'limelight.firstRun.dismissed';
const SELECT = 'Select Model…';
const DOWNLOAD = 'Download Model…';
const NEVER = "Don't Show Again";

export const NO_MODEL_MESSAGE = 'Limelight needs a model to complete code. Pick one already on this machine (Hugging Face cache, Ollama, LM Studio, llama.cpp) or download one; nothing is sent anywhere unless you choose Download.';

export class FirstRun {
  private shown = false;

  constructor(private readonly state: vscode.Memento) {}

  /** Called when a completion was asked for and none could come; shows the notification the first time a model is needed. */
  check(engine: EngineStatus): void {
    if (this.shown || !needsModel(engine) || this.state.get<boolean>(DISMISSED_KEY) === true) return;
    this.shown = true;
    void vscode.window.showInformationMessage(NO_MODEL_MESSAGE, SELECT, DOWNLOAD, NEVER).then((choice) => {
      if (choice === SELECT) void vscode.commands.executeCommand('limelight.selectModel');
      else if (choice === DOWNLOAD) void vscode.commands.executeCommand('limelight.downloadModel');
      else if (choice === NEVER) void this.state.update(DISMISSED_KEY, true);
    });
  }
}
