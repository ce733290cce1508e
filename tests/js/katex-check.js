// Reads JSON [{"tex": "...", "display": bool}, ...] on stdin; renders each with
// KaTeX (throwOnError) and prints JSON [{"index": i, "error": "..."}] of the failures.
"use strict";
const katex = require("katex");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const spans = JSON.parse(input);
  const failures = [];
  spans.forEach((span, index) => {
    try {
      katex.renderToString(span.tex, { displayMode: !!span.display, throwOnError: true, strict: "error" });
    } catch (err) {
      failures.push({ index, error: String(err.message || err) });
    }
  });
  process.stdout.write(JSON.stringify(failures));
});
