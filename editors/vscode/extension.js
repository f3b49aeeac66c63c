// The Jixiao extension: starts `jixiao lsp` over stdio for .jx files.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client = null;

function settings() {
  const config = vscode.workspace.getConfiguration("jixiao");
  return {
    enabled: config.get("server.enabled", true),
    command: config.get("server.command", "jixiao"),
    args: config.get("server.args", ["lsp"]),
  };
}

async function start(output) {
  const { enabled, command, args } = settings();
  if (!enabled) {
    output.appendLine("jixiao.server.enabled is off: highlighting and snippets only.");
    return;
  }
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const run = { command, args, transport: TransportKind.stdio, options: { cwd } };
  client = new LanguageClient(
    "jixiao",
    "Jixiao",
    { run, debug: run },
    {
      documentSelector: [{ scheme: "file", language: "jixiao" }],
      outputChannel: output,
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.jx") },
    },
  );
  try {
    await client.start();
  } catch (err) {
    client = null;
    const message =
      `Jixiao: could not start \`${command} ${args.join(" ")}\` (${err.message ?? err}). ` +
      "Set jixiao.server.command to the jixiao in your virtual environment.";
    vscode.window.showErrorMessage(message, "Open settings").then((choice) => {
      if (choice) vscode.commands.executeCommand("workbench.action.openSettings", "jixiao.server");
    });
  }
}

async function stop() {
  if (client !== null) {
    const running = client;
    client = null;
    await running.stop();
  }
}

/** Called by VS Code when a workspace holds .jx files or one is opened. */
async function activate(context) {
  const output = vscode.window.createOutputChannel("Jixiao");
  context.subscriptions.push(output);
  context.subscriptions.push(
    vscode.commands.registerCommand("jixiao.restartServer", async () => {
      await stop();
      await start(output);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("jixiao.server")) {
        await stop();
        await start(output);
      }
    }),
  );
  await start(output);
}

/** Called by VS Code when the extension is unloaded. */
function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
