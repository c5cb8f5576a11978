/**
 * The CLI's bundles (dist/bundle/NAME.cjs) and their V8 code caches, as bin/bundles.js loads them:
 * the build writes a cache that this Node accepts for each, and a cache that does not fit its bundle,
 * or is older than it, is not used, while the bundle still loads and runs. Each load is a process of
 * its own: V8 keeps what it compiled, and a second compile of the same source would not read a cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';

const bundle = (name: string) => path.join(REPO, 'dist/bundle', `${name}.cjs`);

/** Loads a bundle as bin/vgatt.js does, in a new process: what became of its cache, and the type of one export. */
function load(file: string, exported: string): [string, string] {
  const script = `const loaded = []; const exports = require(${JSON.stringify(path.join(REPO, 'bin/bundles.js'))}).loadBundle(${JSON.stringify(file)}, loaded);
console.log(loaded[0].cache, typeof exports[${JSON.stringify(exported)}]);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split(' ') as [string, string];
}

test('the build writes a code cache for each bundle, newer than it, and this Node uses it', () => {
  for (const [name, exported] of [['cli', 'main'], ['read', 'scanVictron'], ['commands', 'reportToHtml']] as const) {
    assert.ok(statSync(bundle(name) + '.cache').mtimeMs >= statSync(bundle(name)).mtimeMs, name);
    assert.deepEqual(load(bundle(name), exported), ['used', 'function'], name);
  }
});

test('a code cache that does not fit its bundle, is older than it or is missing is not used, and the bundle still loads', () => {
  // A copy of cli.cjs inside dist/ (its require() calls resolve from there).
  const dir = mkdtempSync(path.join(REPO, 'dist', '.bundles-test-'));
  try {
    const file = path.join(dir, 'cli.cjs');
    copyFileSync(bundle('cli'), file);
    assert.deepEqual(load(file, 'main'), ['none', 'function']);
    copyFileSync(bundle('read') + '.cache', file + '.cache'); // another bundle's
    assert.deepEqual(load(file, 'main'), ['rejected', 'function']);
    writeFileSync(file + '.cache', Buffer.alloc(4096, 0xa5)); // not a cache at all
    assert.deepEqual(load(file, 'main'), ['rejected', 'function']);
    copyFileSync(bundle('cli') + '.cache', file + '.cache');
    assert.deepEqual(load(file, 'main'), ['used', 'function']);
    utimesSync(file + '.cache', 1_000, 1_000);
    assert.deepEqual(load(file, 'main'), ['stale', 'function']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
