#!/usr/bin/env node
// Runs the compiled CLI (dist/bundle/, built by `npm run build`, which `npm ci` runs through `prepare`).
// In a source checkout whose dist/ is missing or older than src/ (after an edit or a rebase), it runs
// src/ through tsx instead, so that tests and development never run stale code. A package has no src/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = new URL('../src/', import.meta.url);
let entry = new URL('../dist/bundle/cli.js', import.meta.url);
if (existsSync(src) && isStale()) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('cli.ts', src);
}
// --verbose prints stack traces: point them at src/ through the bundle's source maps.
if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));

/**
 * Whether a source file the build was made from is newer than the build, or gone (dist/.built lists
 * them: a walk of src/ at every start cost about 10 ms). A file added since is used only by a file
 * that was changed to import it, which this notices.
 */
function isStale() {
  const built = new URL('../dist/.built', import.meta.url);
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const srcDir = fileURLToPath(src);
  for (const name of readFileSync(built, 'utf8').split('\n').slice(1)) {
    if (!name) continue;
    const st = statSync(srcDir + name, { throwIfNoEntry: false });
    if (st === undefined || st.mtimeMs > builtAt) return true;
  }
  return false;
}
