// Parses Mermaid files with the real Mermaid parser (in jsdom, no browser).
// Usage: LABRUN_MERMAID_DIR=<folder with node_modules> node mermaid_parse.mjs FILE...
// Prints "FILE: <diagram type>" or "FILE: <parse error>"; exit 1 if any failed.
import { createRequire } from "module";
import { readFileSync } from "fs";
import { pathToFileURL } from "url";

const dir = process.env.LABRUN_MERMAID_DIR;
const require = createRequire(`${dir}/`);
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const { JSDOM } = await load("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
const { default: mermaid } = await load("mermaid");
mermaid.initialize({ startOnLoad: false });
let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const parsed = await mermaid.parse(readFileSync(file, "utf8"));
    console.log(`${file}: ${parsed.diagramType}`);
  } catch (e) {
    failed++;
    console.log(`${file}: ${e.message ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
