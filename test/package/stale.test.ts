/**
 * bin/vgatt.js in a source checkout: it runs the build (dist/bundle/cli.cjs) unless a source file the
 * build lists in dist/.built is newer than the build or gone, or there is no build; then it runs src/
 * through tsx. Checked on a scratch checkout whose two entry points say which one ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';

test('bin/vgatt.js runs dist/ while it is fresh, and src/ when a listed source is newer or gone, or dist/.built is missing', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'vgatt-stale-'));
  try {
    cpSync(path.join(REPO, 'bin'), path.join(root, 'bin'), { recursive: true });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(path.join(root, 'dist/bundle'), { recursive: true });
    mkdirSync(path.join(root, 'src/output'), { recursive: true });
    writeFileSync(path.join(root, 'dist/bundle/cli.cjs'), "exports.main = async function () { console.log('dist'); return 0; };\n");
    writeFileSync(path.join(root, 'src/cli.ts'), "export async function main(): Promise<number> { console.log('src'); return 0; }\n");
    writeFileSync(path.join(root, 'src/output/att.ts'), 'export {};\n');
    const built = path.join(root, 'dist/.built');
    writeFileSync(built, '2026-12-07T00:00:00.000Z\ncli.ts\noutput/att.ts\n');
    const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds);
    const ran = () => {
      const r = spawnSync(process.execPath, [path.join(root, 'bin/vgatt.js')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    at('src/cli.ts', 1_000);
    at('src/output/att.ts', 1_000);
    at('dist/.built', 2_000);
    assert.equal(ran(), 'dist');
    at('src/output/att.ts', 3_000);
    assert.equal(ran(), 'src', 'a listed source newer than the build');
    at('src/output/att.ts', 1_000);
    assert.equal(ran(), 'dist');
    unlinkSync(path.join(root, 'src/output/att.ts'));
    assert.equal(ran(), 'src', 'a listed source gone');
    writeFileSync(path.join(root, 'src/output/att.ts'), 'export {};\n');
    at('src/output/att.ts', 1_000);
    assert.equal(ran(), 'dist');
    unlinkSync(built);
    assert.equal(ran(), 'src', 'no dist/.built');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the build lists every source file in dist/.built, after its time', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const [time, ...listed] = readFileSync(path.join(REPO, 'dist/.built'), 'utf8').trimEnd().split('\n');
  assert.ok(!Number.isNaN(Date.parse(time!)));
  const files = readdirSync(path.join(REPO, 'src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(path.join(REPO, 'src'), path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  assert.deepEqual(listed, files);
  assert.ok(listed.includes('cli.ts') && listed.includes('profiles/common.json'));
});
