// The extension starts `jixiao lsp` with the configured command, and says so when it cannot.
"use strict";

const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const { test } = require("node:test");

/** Loads extension.js against fakes of `vscode` and of the language client; returns the log. */
function loadWith(config, startFails) {
  const log = { clients: [], errors: [], commands: {}, started: 0, stopped: 0 };
  const vscode = {
    workspace: {
      getConfiguration: () => ({ get: (key, fallback) => (key in config ? config[key] : fallback) }),
      workspaceFolders: [{ uri: { fsPath: "/rules" } }],
      createFileSystemWatcher: (glob) => ({ glob }),
      onDidChangeConfiguration: () => ({ dispose() {} }),
    },
    window: {
      createOutputChannel: () => ({ appendLine() {}, dispose() {} }),
      showErrorMessage: (message) => {
        log.errors.push(message);
        return Promise.resolve(undefined);
      },
    },
    commands: {
      registerCommand: (name, fn) => {
        log.commands[name] = fn;
        return { dispose() {} };
      },
    },
  };
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      log.clients.push({ id, name, serverOptions, clientOptions });
    }
    async start() {
      if (startFails) throw new Error("spawn jixiao ENOENT");
      log.started += 1;
    }
    async stop() {
      log.stopped += 1;
    }
  }
  const fakes = { vscode, "vscode-languageclient/node": { LanguageClient, TransportKind: { stdio: 0 } } };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request in fakes ? fakes[request] : load.call(this, request, ...rest);
  };
  const file = path.join(__dirname, "..", "extension.js");
  delete require.cache[require.resolve(file)];
  try {
    return { ext: require(file), log };
  } finally {
    Module._load = load;
  }
}

const context = () => ({ subscriptions: [] });

test("the server is the configured command over stdio, for jixiao documents", async () => {
  const { ext, log } = loadWith({ "server.command": "/opt/rules/.venv/bin/jixiao" }, false);
  await ext.activate(context());
  assert.equal(log.clients.length, 1);
  const { serverOptions, clientOptions } = log.clients[0];
  assert.deepEqual(serverOptions.run, {
    command: "/opt/rules/.venv/bin/jixiao",
    args: ["lsp"],
    transport: 0,
    options: { cwd: "/rules" },
  });
  assert.deepEqual(clientOptions.documentSelector, [{ scheme: "file", language: "jixiao" }]);
  assert.equal(clientOptions.synchronize.fileEvents.glob, "**/*.jx");
  assert.equal(log.started, 1);
  await log.commands["jixiao.restartServer"]();
  assert.deepEqual([log.stopped, log.started, log.clients.length], [1, 2, 2]);
  await ext.deactivate();
  assert.equal(log.stopped, 2);
});

test("a command that cannot start names the setting to change", async () => {
  const { ext, log } = loadWith({ "server.args": ["lsp", "--verbose"] }, true);
  await ext.activate(context());
  assert.equal(log.errors.length, 1);
  assert.match(log.errors[0], /could not start `jixiao lsp --verbose` \(spawn jixiao ENOENT\)/);
  assert.match(log.errors[0], /jixiao\.server\.command/);
  await ext.deactivate();
  assert.equal(log.stopped, 0);
});

test("with the server disabled no client starts", async () => {
  const { ext, log } = loadWith({ "server.enabled": false }, false);
  await ext.activate(context());
  assert.equal(log.clients.length, 0);
});
