// Wires the inspector into the extension: the command, and the serializer that restores the
// panel after a window reload. One call from activate().
import * as vscode from 'vscode';
import { INSPECTOR_VIEW_TYPE, InspectorPanel, type InspectorDeps, type InspectTarget } from './panel';

/** The current selection, or the last completion, as tokens to inspect. */
function findTarget(deps: InspectorDeps): InspectTarget | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) {
    const doc = editor.document;
    const text = doc.getText(editor.selection);
    const name = doc.uri.path.split('/').pop() ?? doc.uri.toString();
    return {
      label: `the selection in ${name} (lines ${editor.selection.start.line + 1}–${editor.selection.end.line + 1})`,
      documentUri: doc.uri,
      text,
      segments: [{ textStart: 0, length: text.length, docOffset: doc.offsetAt(editor.selection.start) }],
    };
  }
  return deps.lastCompletion?.();
}

export function registerInspector(context: vscode.ExtensionContext, deps: InspectorDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('limelight.inspectAttention', async () => {
      const target = findTarget(deps);
      if (!target) {
        await vscode.window.showInformationMessage('Limelight: select some code (or accept a completion) first, then run Inspect Attention to see what the model attends to.');
        return;
      }
      await InspectorPanel.createOrShow(context.extensionUri, deps).inspect(target);
    }),
    vscode.window.registerWebviewPanelSerializer(INSPECTOR_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => InspectorPanel.revive(panel, context.extensionUri, deps, state),
    }),
    { dispose: () => InspectorPanel.current?.dispose() },
  );
}
