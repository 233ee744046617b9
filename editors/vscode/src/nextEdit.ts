// Next-edit suggestions with the API an extension can publish: the proposed inline-edit API
// is closed to us, so a pending edit is drawn with decorations (the text it replaces struck
// through, each changed line's new text after it) and `glmLsp.acceptNextEdit` is bound to Tab
// only while one shows (context key `glmLsp.nextEditShowing`). After an idle pause the
// extension asks glm-lsp with Copilot's `textDocument/copilotInlineEdit`. Typing on, Escape,
// or leaving the editor dismisses it.
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";

const METHOD = "textDocument/copilotInlineEdit";
const SHOWING = "glmLsp.nextEditShowing";
const AUTOMATIC = 2;

interface WirePosition {
  line: number;
  character: number;
}
interface WireEdit {
  text: string;
  range: { start: WirePosition; end: WirePosition };
  textDocument: { uri: string; version: number };
  command?: { title: string; command: string; arguments?: unknown[] };
}

interface Pending {
  editor: vscode.TextEditor;
  version: number;
  range: vscode.Range;
  text: string;
  command?: WireEdit["command"];
}

export class NextEdits implements vscode.Disposable {
  private pending: Pending | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private asked = 0; // the newest request; older answers are dropped
  private readonly removed = vscode.window.createTextEditorDecorationType({
    textDecoration: "line-through",
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor("editorGhostText.foreground"),
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
      margin: "0 0 0 1em",
    },
  });
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.subscriptions.push(
      vscode.commands.registerCommand("glmLsp.acceptNextEdit", () => this.accept()),
      vscode.commands.registerCommand("glmLsp.dismissNextEdit", () => this.dismiss()),
      vscode.commands.registerCommand("glmLsp.requestNextEdit", () => this.request()),
      vscode.workspace.onDidChangeTextDocument((event) => this.changed(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.dismiss()),
      this.removed,
      this.added,
    );
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.dismiss();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }

  private enabled(): boolean {
    return vscode.workspace.getConfiguration("glm").get<boolean>("nextEdit.enabled") ?? true;
  }

  /** Typing on: the suggestion goes; a new one is asked for after the idle pause. */
  private changed(event: vscode.TextDocumentChangeEvent): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || event.document !== editor.document || event.contentChanges.length === 0) {
      return;
    }
    this.dismiss();
    clearTimeout(this.timer);
    if (!this.enabled()) {
      return;
    }
    const idle = vscode.workspace.getConfiguration("glmLsp").get<number>("nextEditIdleMs") ?? 500;
    this.timer = setTimeout(() => void this.request(), idle);
  }

  /** Ask glm-lsp for the next edit at the cursor. */
  async request(): Promise<void> {
    const client = this.client();
    const editor = vscode.window.activeTextEditor;
    if (!client || !editor || !this.enabled()) {
      return;
    }
    const document = editor.document;
    const version = document.version;
    const ticket = ++this.asked;
    let result: { edits?: WireEdit[] } | undefined;
    try {
      result = await client.sendRequest(METHOD, {
        textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri), version },
        position: client.code2ProtocolConverter.asPosition(editor.selection.active),
        context: { triggerKind: AUTOMATIC },
      });
    } catch {
      return; // cancelled or the server went away: no suggestion
    }
    const edit = result?.edits?.[0];
    // Not for text that changed since, nor for an editor left meanwhile.
    if (!edit || ticket !== this.asked || document.version !== version ||
        vscode.window.activeTextEditor !== editor) {
      return;
    }
    const range = client.protocol2CodeConverter.asRange(edit.range);
    this.show({ editor, version, range, text: edit.text, command: edit.command });
    void client.sendNotification("textDocument/didShowInlineEdit", {
      item: { command: edit.command },
    });
  }

  private show(pending: Pending): void {
    this.dismiss();
    const { editor, range, text } = pending;
    const document = editor.document;
    const first = range.start.line;
    const last = range.end.line;
    const before = document.lineAt(first).text.slice(0, range.start.character);
    const after = document.lineAt(last).text.slice(range.end.character);
    const newLines = (before + text + after).split(/\r?\n/);
    const added: vscode.DecorationOptions[] = [];
    for (let line = first; line <= last; line += 1) {
      const index = line - first;
      const isLast = line === last;
      const shown = isLast ? newLines.slice(index).join(" ⏎ ") : newLines[index];
      if (shown === undefined || shown === document.lineAt(line).text) {
        continue;
      }
      const end = document.lineAt(line).range.end;
      added.push({
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: `→ ${shown.trim() ? shown : "(empty line)"}` } },
      });
    }
    editor.setDecorations(this.removed, range.isEmpty ? [] : [range]);
    editor.setDecorations(this.added, added);
    this.pending = pending;
    void vscode.commands.executeCommand("setContext", SHOWING, true);
  }

  dismiss(): void {
    if (!this.pending) {
      return;
    }
    const { editor } = this.pending;
    this.pending = undefined;
    editor.setDecorations(this.removed, []);
    editor.setDecorations(this.added, []);
    void vscode.commands.executeCommand("setContext", SHOWING, false);
  }

  /** Tab: jump to the edit when the cursor is elsewhere; apply it when the cursor is on it. */
  async accept(): Promise<void> {
    const pending = this.pending;
    if (!pending || vscode.window.activeTextEditor !== pending.editor) {
      return;
    }
    const { editor, range, text, command } = pending;
    const line = editor.selection.active.line;
    if (line < range.start.line || line > range.end.line) {
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return;
    }
    this.dismiss();
    if (editor.document.version !== pending.version) {
      return;
    }
    const applied = await editor.edit((builder) => builder.replace(range, text));
    const client = this.client();
    if (applied && client && command) {
      void client.sendRequest(ExecuteCommandRequest.type, {
        command: command.command,
        arguments: command.arguments,
      });
    }
  }
}
