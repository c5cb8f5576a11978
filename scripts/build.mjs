/**
 * `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to dist/ with tsc, copies
 * the non-TypeScript assets the compiled code reads next to itself (profiles, Lua runtime), then
 * writes dist/.built, whose time bin/vgatt.js compares with src/ to notice a stale build.
 * Plain JavaScript so that it runs on a fresh clone before anything is compiled.
 * `--out DIR` builds elsewhere (the package test builds into a scratch copy, leaving dist/ alone).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(json|lua)$/.test(entry.name)) continue;
  const rel = path.relative(path.join(root, 'src'), path.join(entry.parentPath ?? entry.path, entry.name));
  mkdirSync(path.dirname(path.join(dist, rel)), { recursive: true });
  copyFileSync(path.join(root, 'src', rel), path.join(dist, rel));
}
writeFileSync(path.join(dist, '.built'), new Date().toISOString() + '\n');
