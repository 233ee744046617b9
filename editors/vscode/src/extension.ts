// VS Code client for glm-lsp: starts the server with VS Code's environment (plus the stored
// key), forwards the `glm.*` settings and adds a few commands. All GLM features (code actions,
// inline completion, progress) come from the server through vscode-languageclient; this file
// only shows the server's progress as a cancellable notification.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import { NextEdits } from "./nextEdit";

const CLIENT_ID = "glmLsp";
const SETTINGS_SECTION = "glm";
const SECRET_KEY = "glm.apiKey";
const DEFAULT_KEY_ENV = "BIGMODEL_API_KEY";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const register = (id: string, run: () => Promise<void>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, run));

  register("glmLsp.setApiKey", () => setApiKey(context));
  register("glmLsp.clearApiKey", () => clearApiKey(context));
  register("glmLsp.restart", () => restart(context));
  register("glmLsp.agent", runAgent);
  register("glmLsp.refactor", runRefactor);
  register("glmLsp.status", () => serverCommand("glm.status", {}).then(() => undefined));
  context.subscriptions.push(new NextEdits(() => client));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      // Server settings travel by didChangeConfiguration; how to start it needs a restart.
      if (event.affectsConfiguration("glmLsp.serverPath") ||
          event.affectsConfiguration("glmLsp.serverArgs") ||
          event.affectsConfiguration("glm.apiKeyEnv")) {
        void restart(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** The `glm` section as a plain object, the shape the server reads. */
function glmSettings(): Record<string, unknown> {
  return vscode.workspace.getConfiguration().get<Record<string, unknown>>(SETTINGS_SECTION) ?? {};
}

/**
 * VS Code's own environment (PATH, HOME, an exported BIGMODEL_API_KEY / ZAI_API_KEY /
 * GLM_LSP_BASE_URL, proxies) plus the key from secret storage when one is stored there.
 * vscode-languageclient gives `options.env` to `child_process.spawn` as the WHOLE
 * environment, so it must be built from `process.env` here or the server gets nothing else.
 */
async function serverEnvironment(context: vscode.ExtensionContext): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const key = await context.secrets.get(SECRET_KEY);
  if (key) {
    const keyEnv = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string | null>("apiKeyEnv");
    env[keyEnv || DEFAULT_KEY_ENV] = key; // the stored key wins over an exported one
  }
  return env;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration(CLIENT_ID);
  const command = config.get<string>("serverPath") || "glm-lsp";
  const env = await serverEnvironment(context);
  // Checked here, not left to the client: its own failure message says nothing about how to
  // install glm-lsp, and it would come on top of ours.
  if (!findExecutable(command, env.PATH ?? "")) {
    const where = path.isAbsolute(command) ? "" : " on PATH";
    reportServerMissing(`could not start "${command}": no such executable${where}`);
    return;
  }
  const serverOptions: ServerOptions = {
    command,
    args: config.get<string[]>("serverArgs") ?? [],
    options: { env },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
    initializationOptions: () => ({ [SETTINGS_SECTION]: glmSettings() }),
    synchronize: { configurationSection: SETTINGS_SECTION },
    outputChannelName: "GLM",
  };
  client = new LanguageClient(CLIENT_ID, "GLM", serverOptions, clientOptions);
  try {
    await client.start();
    showProgressAsNotifications(client);
  } catch (error) {
    client = undefined;
    reportServerMissing(`could not start "${command}" (${String(error)})`);
  }
}

/** The executable `command` names (a path, or a name looked up on `searchPath`), if any. */
function findExecutable(command: string, searchPath: string): string | undefined {
  const isExecutable = (candidate: string) => {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  const suffixes =
    process.platform === "win32" ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD").split(";")] : [""];
  const folders = command.includes("/") || command.includes(path.sep)
    ? [""]
    : searchPath.split(path.delimiter).filter(Boolean);
  for (const folder of folders) {
    for (const suffix of suffixes) {
      const candidate = path.join(folder, command + suffix);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** One notification, not awaited: activation must not wait for the user to read it. */
function reportServerMissing(problem: string): void {
  void vscode.window
    .showErrorMessage(
      `GLM: ${problem}. Install it with \`pipx install glm-lsp\`, or set ` +
        "glmLsp.serverPath to its full path.",
      "Open settings",
    )
    .then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand("workbench.action.openSettings", "glmLsp.serverPath");
      }
    });
}

/**
 * The server's work-done progress as a notification with a Cancel button. The language
 * client shows it only in the status bar, where it cannot be cancelled; GLM requests are long
 * and cost tokens, so stopping one must be a click away. Replaces the client's own handler.
 */
function showProgressAsNotifications(running: LanguageClient): void {
  running.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    let ended = false;
    let finish = () => {};
    let report = (_message?: string) => {};
    const listener = running.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === "begin") {
        const options = {
          location: vscode.ProgressLocation.Notification,
          title: value.title,
          cancellable: value.cancellable ?? false,
        };
        void vscode.window.withProgress(options, (progress, cancelled) => {
          cancelled.onCancellationRequested(() => {
            void running.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
          report = (message) => progress.report({ message });
          report(value.message);
          // "end" may come before VS Code runs this callback: then close at once.
          return ended ? Promise.resolve() : new Promise<void>((resolve) => (finish = resolve));
        });
      } else if (value.kind === "report") {
        report(value.message);
      } else {
        ended = true;
        listener.dispose();
        finish();
      }
    });
  });
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  await stop();
  await start(context);
}

async function setApiKey(context: vscode.ExtensionContext): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: "GLM API key",
    prompt: "Stored in VS Code's secret storage and given to glm-lsp in its environment.",
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : "The key cannot be empty"),
  });
  if (key === undefined) {
    return;
  }
  await context.secrets.store(SECRET_KEY, key.trim());
  await restart(context);
  void vscode.window.showInformationMessage("GLM: API key saved; the server was restarted.");
}

async function clearApiKey(context: vscode.ExtensionContext): Promise<void> {
  await context.secrets.delete(SECRET_KEY);
  await restart(context);
}

/** Run one of the server's `workspace/executeCommand` commands with its single argument. */
async function serverCommand(command: string, argument: Record<string, unknown>): Promise<unknown> {
  if (!client) {
    void vscode.window.showErrorMessage("GLM: the server is not running (see the GLM output).");
    return undefined;
  }
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
}

/** The document and selection of the active editor, in LSP terms. */
function editorLocation(): { uri: string; range: unknown } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    return undefined;
  }
  const convert = client.code2ProtocolConverter;
  return { uri: convert.asUri(editor.document.uri), range: convert.asRange(editor.selection) };
}

async function runAgent(): Promise<void> {
  const instruction = await vscode.window.showInputBox({
    title: "GLM agent",
    prompt: "What should the agent change? It may edit several files; you can undo the result.",
    ignoreFocusOut: true,
  });
  if (!instruction?.trim()) {
    return;
  }
  await serverCommand("glm.agent", { instruction: instruction.trim(), ...editorLocation() });
}

async function runRefactor(): Promise<void> {
  const location = editorLocation();
  if (!location) {
    void vscode.window.showWarningMessage("GLM: open a file and select the code to refactor.");
    return;
  }
  const instruction = await vscode.window.showInputBox({
    title: "GLM refactor",
    prompt: "How should the selection change? (empty: a general clean-up)",
    ignoreFocusOut: true,
  });
  if (instruction === undefined) {
    return;
  }
  const argument: Record<string, unknown> = { ...location };
  if (instruction.trim()) {
    argument.instruction = instruction.trim();
  }
  await serverCommand("glm.refactor", argument);
}
