// Bundles page.mjs for the browser tests: `node build.mjs <out.js>`.
// process.env is what Next.js leaves of it in a client bundle: NODE_ENV only.
import { build } from "esbuild";

const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs <out.js>");
  process.exit(2);
}
await build({
  entryPoints: [new URL("./page.mjs", import.meta.url).pathname],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "chrome120",
  minify: true,
  outfile: out,
  define: { "process.env.NODE_ENV": '"production"' },
  banner: { js: "var process={env:{}};" },
  logLevel: "warning",
});
