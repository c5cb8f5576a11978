/**
 * The npm package as a user gets it: `npm pack`, installed into an empty folder, runs the compiled
 * CLI and library without tsx or the sources. Built into a scratch copy so that dist/ is not touched
 * while other tests run the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack, install into an empty folder, run vgatt decode and the library from there', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vgatt-pack-'));
  try {
    const stage = path.join(work, 'stage');
    mkdirSync(stage);
    for (const f of ['package.json', 'README.md', 'bin', 'dissector']) cpSync(path.join(REPO, f), path.join(stage, f), { recursive: true });
    execFileSync(process.execPath, [path.join(REPO, 'scripts/build.mjs'), '--out', path.join(stage, 'dist')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const tgz = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', work], stage).trim().split('\n').pop()!;
    const files = execFileSync('tar', ['-tzf', path.join(work, tgz)], { encoding: 'utf8' }).split('\n');
    assert.ok(files.includes('package/dist/index.d.ts') && files.includes('package/dist/profiles/smartshunt.jsonl') && files.includes('package/dist/lua/runtime.lua'), 'types, profiles and the Lua runtime are in the package');
    assert.ok(!files.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')), 'no sources or tests in the package');
    for (const f of ['bin/package.json', 'bin/bundles.js', ...['cli', 'read', 'commands'].flatMap((b) => [`dist/bundle/${b}.cjs`, `dist/bundle/${b}.cjs.cache`])]) assert.ok(files.includes(`package/${f}`), `${f} is in the package`);

    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', path.join(work, tgz)], app);
    assert.ok(!existsSync(path.join(app, 'node_modules/tsx')), 'tsx is a development dependency only');
    assert.deepEqual(readdirSync(path.join(app, 'node_modules/victron-gatt')).sort(), ['README.md', 'bin', 'dissector', 'dist', 'package.json']);

    const sample = path.join(REPO, 'captures/smartshunt-orion-session.btsnoop');
    const r = spawnSync(path.join(app, 'node_modules/.bin/vgatt'), ['decode', sample, '--format', 'ndjson'], { cwd: app, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // 0xED8D battery voltage, raw 2f05 = 0x052f = 1327 * 0.01 V (protocol.md).
    const v = rows.find((x) => x.type === 8 && x.register === 0xed8d);
    assert.deepEqual([v.registerName, v.raw, v.value, v.unit], ['Battery voltage', '2f05', 13.27, 'V']);

    const lua = spawnSync(path.join(app, 'node_modules/.bin/vgatt'), ['lua'], { cwd: app, encoding: 'utf8' });
    assert.equal(lua.status, 0, lua.stderr);
    assert.match(lua.stdout, /Proto\("victron"/);

    // The library: every stage importable from the package root, main/types/exports resolving.
    const lib = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('victron-gatt'); console.log(['openCapture', 'AttExtractor', 'scanAtt', 'scanVictron', 'VictronDecoder', 'loadProfiles', 'decodeRegisterValue', 'victronToNdjson', 'generateLua', 'diffSummaries', 'ReportBuilder'].map((k) => typeof m[k]).join(' '))"], { cwd: app, encoding: 'utf8' });
    assert.equal(lib.status, 0, lib.stderr);
    assert.equal(lib.stdout.trim(), Array(11).fill('function').join(' '));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
