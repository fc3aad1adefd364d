// A first run that leads somewhere: with no model to complete with (none set, no starter model
// in this build, no remote server), one calm notification offers Select Model (the models
// already on this machine first) and Download Model; the status bar says the same until a model
// loads. Once per window at most, and never again after "Don't Show Again".
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

  /** Called whenever the engine's state changes; shows the notification the first time a model is needed. */
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
