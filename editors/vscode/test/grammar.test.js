// The TextMate grammar gives every token of the shipped rules and of the docs' examples a scope.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { test } = require("node:test");
const { tokenise, unknownTokens } = require("./tokenise");

const REPO = path.resolve(__dirname, "..", "..", "..");

function filesUnder(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith(suffix))
    .map((f) => path.join(dir, f))
    .sort();
}

/** The fenced ```jx blocks of a Markdown file, each with the line it starts on. */
function jxBlocks(file) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const blocks = [];
  let start = -1;
  lines.forEach((line, i) => {
    if (start < 0 && /^```jx\b/.test(line)) start = i + 1;
    else if (start >= 0 && /^```\s*$/.test(line)) {
      blocks.push({ line: start + 1, text: lines.slice(start, i).join("\n") });
      start = -1;
    }
  });
  return blocks;
}

async function scopesOf(source, text) {
  const t = (await tokenise(source)).find((tok) => tok.text === text);
  assert.ok(t, `no token '${text}' in ${JSON.stringify(source)}`);
  return t.scopes.slice(1).join(" ");
}

test("every shipped rule file has no unknown token", async () => {
  const files = filesUnder(path.join(REPO, "rules"), ".jx");
  assert.ok(files.length >= 14, `expected the shipped rule files under rules/, found ${files.length}`);
  const problems = [];
  for (const file of files) {
    for (const u of await unknownTokens(fs.readFileSync(file, "utf8"))) {
      problems.push(`${path.relative(REPO, file)}:${u}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("every jx example in the docs has no unknown token", async () => {
  const problems = [];
  let count = 0;
  for (const file of filesUnder(path.join(REPO, "docs"), ".md")) {
    for (const block of jxBlocks(file)) {
      count += 1;
      for (const u of await unknownTokens(block.text)) {
        const [line, rest] = u.split(/:(.*)/s);
        problems.push(`${path.relative(REPO, file)}:${block.line + Number(line) - 1}:${rest}`);
      }
    }
  }
  assert.ok(count >= 20, `expected the jx examples of docs/language.md, found ${count}`);
  assert.deepEqual(problems, []);
});

test("a character the language never allows is an unknown token", async () => {
  assert.deepEqual(await unknownTokens('indicator K1 "x" points 30 @ {\n  score ~1\n}'), [
    "1:28: '@' (source.jixiao invalid.illegal.character.jixiao)",
    "2:9: '~' (source.jixiao invalid.illegal.character.jixiao)",
  ]);
  assert.deepEqual(await unknownTokens('  score "unterminated'), []);
});

test("every keyword of the parser's grammar is highlighted as a keyword", async () => {
  const lark = filesUnder(path.join(REPO, "dsl"), "grammar.lark");
  assert.equal(lark.length, 1, `expected one grammar.lark under dsl/, found ${lark}`);
  const keywords = new Set(fs.readFileSync(lark[0], "utf8").match(/"[a-z_]+"/g));
  assert.ok(keywords.size >= 60, `found only ${keywords.size} keywords`);
  const plain = [];
  for (const quoted of keywords) {
    const word = quoted.slice(1, -1);
    const scopes = await scopesOf(word, word);
    if (!/(^| )(keyword|storage\.type)\./.test(scopes)) plain.push(`${word}: ${scopes}`);
  }
  assert.deepEqual(plain, [], "add these words to syntaxes/jixiao.tmLanguage.json");
});

test("each kind of token gets its scope", async () => {
  const card = 'scorecard county "县区局组织绩效" for county_bureaus {';
  assert.equal(await scopesOf(card, "scorecard"), "storage.type.scorecard.jixiao");
  assert.equal(await scopesOf(card, "county"), "entity.name.type.scorecard.jixiao");
  assert.equal(await scopesOf(card, "县区局组织绩效"), "string.quoted.double.jixiao");
  const ind = "    indicator K4 \"减税降费落实\" points 30 lead hy-policy {";
  assert.equal(await scopesOf(ind, "K4"), "entity.name.function.indicator.jixiao");
  assert.equal(await scopesOf(ind, "points"), "keyword.other.jixiao");
  assert.equal(await scopesOf(ind, "30"), "constant.numeric.decimal.jixiao");
  assert.equal(await scopesOf(ind, "hy-policy"), "variable.other.jixiao");
  const cat = 'category key "重点工作" weight 70% max 100 {';
  assert.equal(await scopesOf(cat, "70"), "constant.numeric.percentage.jixiao");
  assert.equal(await scopesOf(cat, "%"), "constant.numeric.percentage.jixiao keyword.other.unit.percent.jixiao");
  const rule = "  score if v >= 100 then 30 else max(0, 30 - 3 * (100 - v)) # §2.1 K1";
  assert.equal(await scopesOf(rule, "if"), "keyword.control.jixiao");
  assert.equal(await scopesOf(rule, ">="), "keyword.operator.comparison.jixiao");
  assert.equal(await scopesOf(rule, "max"), "support.function.builtin.jixiao");
  assert.equal(await scopesOf(rule, "-"), "keyword.operator.arithmetic.jixiao");
  assert.equal(await scopesOf(rule, " §2.1 K1"), "comment.line.number-sign.jixiao");
  const field = "  value: number in 0..100";
  assert.equal(await scopesOf(field, "value"), "variable.other.property.jixiao");
  assert.equal(await scopesOf(field, "number"), "support.type.primitive.jixiao");
  assert.equal(await scopesOf(field, ".."), "keyword.operator.range.jixiao");
  const link = "  link issue: county indicator K4 -> lead(K4) ratio 20%";
  assert.equal(await scopesOf(link, "county"), "entity.name.type.scorecard.jixiao");
  assert.equal(await scopesOf(link, "->"), "keyword.operator.arrow.jixiao");
  assert.equal(await scopesOf("  round 2 half_up", "half_up"), "support.constant.rounding-mode.jixiao");
  assert.equal(await scopesOf("  period 2025Q1", "2025Q1"), "constant.numeric.period.jixiao");
  // `r-1` is one name, as the parser reads it; `r - 1` is a subtraction
  assert.equal(await scopesOf("  score 20 - (r-1)", "r-1"), "variable.other.jixiao");
  assert.equal(await scopesOf("  expect nanyue.G5 == 10", "G5"), "variable.other.member.jixiao");
  assert.equal(await scopesOf('  title: "a \\"quoted\\" word"', '\\"'), "string.quoted.double.jixiao constant.character.escape.jixiao");
});
