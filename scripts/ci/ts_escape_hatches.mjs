// Fails when TypeScript source opts out of its types: `any`, a cast (`x as T`, `<T>x`), a non-null
// assertion (`x!`) or a `@ts-ignore` / `@ts-expect-error` / `@ts-nocheck` comment. `tsc --strict`
// allows all of these; a client that uses them can drift from the schema without a compile error.
//
// Usage (from a folder whose node_modules has typescript): node ../../scripts/ci/ts_escape_hatches.mjs FILE...
// Prints each finding as file:line:column and exits 1 if there is any.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const ts = require("typescript");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node ts_escape_hatches.mjs FILE...");
  process.exit(2);
}

const findings = [];
for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const report = (node, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    findings.push(`${file}:${line + 1}:${character + 1}: ${what}: ${node.getText(source).slice(0, 80)}`);
  };
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, "`any`");
    else if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) report(node, "a cast");
    else if (ts.isNonNullExpression(node)) report(node, "a non-null assertion");
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const match of text.matchAll(/@ts-(ignore|expect-error|nocheck)/g)) {
    const { line, character } = source.getLineAndCharacterOfPosition(match.index);
    findings.push(`${file}:${line + 1}:${character + 1}: a @ts-${match[1]} comment`);
  }
}

for (const finding of findings) console.log(finding);
console.log(`escape hatches: ${findings.length} in ${files.length} file${files.length === 1 ? "" : "s"}`);
process.exit(findings.length === 0 ? 0 : 1);
