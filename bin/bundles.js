// Loads the CLI's CommonJS bundles (dist/bundle/NAME.cjs) for bin/vgatt.js. CommonJS (bin/package.json),
// like the bundles: no ES module is loaded unless a command imports one, and Node's ES module loader
// was a tenth of `vgatt --help` (issue 11).
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

/**
 * A bundle, compiled with the V8 code cache that the build wrote next to it (NAME.cjs.cache): the
 * functions a run needs come compiled, instead of being parsed and compiled at every start, which was
 * most of `vgatt --help`'s own time (issue 11). Node 20 has no code cache for ES modules, nor one for
 * CommonJS that a package can ship (module.enableCompileCache is Node 22), hence vm.Script. V8 checks
 * that a cache fits the source and this V8 (its version and flags) and ignores one that does not; one
 * older than its bundle is not read. Each bundle loaded is added to `loaded`, with what became of its
 * cache. With `verbose`, Node's own require() loads the bundle instead: Node maps the stack traces of
 * what require() loads to dist/ through the source maps, not those of a vm.Script.
 */
function loadBundle(file, loaded, verbose = false) {
  if (verbose) return require(file);
  const source = readFileSync(file, 'utf8');
  const cacheFile = file + '.cache';
  const st = statSync(cacheFile, { throwIfNoEntry: false });
  const fresh = st !== undefined && st.mtimeMs >= statSync(file).mtimeMs;
  const cachedData = fresh ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  loaded.push({ file, script, cache: st === undefined ? 'none' : !fresh ? 'stale' : script.cachedDataRejected ? 'rejected' : 'used' });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

/** Writes the code cache of each bundle loaded, with the functions compiled so far (`npm run build`). */
function writeCodeCaches(loaded) {
  for (const b of loaded) writeFileSync(b.file + '.cache', b.script.createCachedData());
}

module.exports = { loadBundle, writeCodeCaches };
