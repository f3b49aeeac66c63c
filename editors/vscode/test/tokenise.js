// Tokenises Jixiao source with the extension's TextMate grammar, as VS Code does.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const oniguruma = require("vscode-oniguruma");
const textmate = require("vscode-textmate");

const ROOT = path.resolve(__dirname, "..");
const BASE_SCOPE = "source.jixiao";
const ILLEGAL = "invalid.illegal";

let registryPromise = null;

/** The grammar registry, built once (the Oniguruma WebAssembly is loaded from node_modules). */
function registry() {
  if (registryPromise === null) {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    const onigLib = oniguruma.loadWASM(wasm.buffer).then(() => ({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }));
    registryPromise = Promise.resolve(
      new textmate.Registry({
        onigLib,
        loadGrammar: async (scopeName) => {
          if (scopeName !== BASE_SCOPE) return null;
          const file = path.join(ROOT, "syntaxes", "jixiao.tmLanguage.json");
          return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
        },
      }),
    );
  }
  return registryPromise;
}

/** The Jixiao grammar. */
async function grammar() {
  return (await registry()).loadGrammar(BASE_SCOPE);
}

/** Every token of `text`: {line, col (1-based), text, scopes}. */
async function tokenise(text) {
  const g = await grammar();
  let state = textmate.INITIAL;
  const out = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const r = g.tokenizeLine(line, state);
    for (const t of r.tokens) {
      out.push({
        line: i + 1,
        col: t.startIndex + 1,
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      });
    }
    state = r.ruleStack;
  });
  return out;
}

/**
 * An unknown token is a token that contains a character other than whitespace and that the
 * grammar gave either no scope beyond the base `source.jixiao` (no rule matched it) or an
 * `invalid.illegal` scope (the grammar's catch-all for a character the language never allows).
 */
function isUnknown(token) {
  if (/^\s*$/.test(token.text)) return false;
  if (token.scopes.length <= 1) return true;
  return token.scopes.some((s) => s.startsWith(ILLEGAL));
}

/** The unknown tokens of `text`, as "line:col: 'text' (scopes)" strings. */
async function unknownTokens(text) {
  return (await tokenise(text))
    .filter(isUnknown)
    .map((t) => `${t.line}:${t.col}: '${t.text}' (${t.scopes.join(" ")})`);
}

module.exports = { tokenise, isUnknown, unknownTokens, BASE_SCOPE };
