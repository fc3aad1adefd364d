// Commands whose feature has not landed in this build answer politely instead of doing
// nothing, and say what works today.
import * as vscode from 'vscode';

export async function showNotAvailable(feature: string): Promise<void> {
  await vscode.window.showInformationMessage(
    `Limelight: ${feature} is not available yet in this build. The engine that runs it has not landed; ` +
      'until then Limelight can only toggle its settings and show its status.',
  );
}
