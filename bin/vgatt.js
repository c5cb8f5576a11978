#!/usr/bin/env node
// Runs the compiled CLI (dist/bundle/, built by `npm run build`, which `npm ci` runs through `prepare`).
// In a source checkout whose dist/ is missing or older than src/ (after an edit or a rebase), it runs
// src/ through tsx instead, so that tests and development never run stale code. A package has no src/.
'use strict';
const { existsSync, readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const src = path.join(__dirname, '..', 'src');
// --verbose prints stack traces: point them at dist/ through the bundles' source maps.
const verbose = process.argv.includes('--verbose');
if (verbose) process.setSourceMapsEnabled(true);

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() turns every error into a message and an exit status: this is a failure to start.
    process.stderr.write(`vgatt: error: ${verbose ? err.stack : err.message}\n`);
    process.exitCode = 1;
  },
);

async function run() {
  if (existsSync(src) && isStale()) {
    const { register } = await import('tsx/esm/api');
    register();
    const { main } = await import(require('node:url').pathToFileURL(path.join(src, 'cli.ts')).href);
    return main(process.argv.slice(2));
  }
  const { loadBundle, writeCodeCaches } = require('./bundles.js');
  const loaded = [];
  const bundle = (name) => loadBundle(path.join(__dirname, '..', 'dist', 'bundle', `${name}.cjs`), loaded, verbose);
  const code = await bundle('cli').main(process.argv.slice(2), { read: async () => bundle('read'), all: async () => bundle('commands') });
  // `npm run build` runs a few commands this way to make the code caches (scripts/build.mjs).
  if (process.env.VGATT_WRITE_CODE_CACHE === '1') writeCodeCaches(loaded);
  return code;
}

/**
 * Whether a source file the build was made from is newer than the build, or gone (dist/.built lists
 * them: a walk of src/ at every start cost about 10 ms). A file added since is used only by a file
 * that was changed to import it, which this notices.
 */
function isStale() {
  const built = path.join(__dirname, '..', 'dist', '.built');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  for (const name of readFileSync(built, 'utf8').split('\n').slice(1)) {
    if (!name) continue;
    const st = statSync(path.join(src, name), { throwIfNoEntry: false });
    if (st === undefined || st.mtimeMs > builtAt) return true;
  }
  return false;
}
