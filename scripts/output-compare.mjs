/**
 * Checks that a rework leaves vgatt's output unchanged (a development aid, not a test: the reference is
 * our own earlier output). `save DIR` runs every command/format on every capture (captures/,
 * test/fixtures/, ../shared/captures/, and any file given with --also) and stores stdout, stderr and exit
 * status; `check DIR` runs the same with the current code and lists what differs, byte for byte.
 *   node scripts/output-compare.mjs save /tmp/before [--bin path/to/vgatt.js] [--also big.btsnoop]
 *   node scripts/output-compare.mjs check /tmp/before
 * Large outputs are stored as a SHA-256 only.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const [mode, dir, ...rest] = process.argv.slice(2);
if ((mode !== 'save' && mode !== 'check') || !dir) {
  console.error('usage: output-compare.mjs save|check DIR [--bin vgatt.js] [--also FILE]...');
  process.exit(1);
}
const opt = (name) => rest.flatMap((v, i) => (rest[i - 1] === name ? [v] : []));
const bin = path.resolve(opt('--bin')[0] ?? path.join(root, 'bin/vgatt.js'));

function capturesIn(d) {
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) return capturesIn(p);
    return /\.(btsnoop|pcap|pcapng|log)$/.test(e.name) ? [p] : [];
  });
}

const files = [...capturesIn(path.join(root, 'captures')), ...capturesIn(path.join(root, 'test/fixtures')), ...capturesIn(path.resolve(root, '../shared/captures'))].sort();
const big = (mode === 'save' ? opt('--also') : []).map((f) => path.resolve(f));
const runs = [
  ['att', '--format', 'ndjson'],
  ['att', '--format', 'csv'],
  ['att', '--format', 'text'],
  ['decode', '--format', 'ndjson'],
  ['decode', '--format', 'csv'],
  ['decode', '--format', 'text'],
  ['gatt', '--format', 'text'],
  ['gatt', '--format', 'json'],
  ['report'],
];

const digest = (b) => createHash('sha256').update(b).digest('hex');
mkdirSync(dir, { recursive: true });
const indexFile = path.join(dir, 'index.json');
const saved = mode === 'check' ? JSON.parse(readFileSync(indexFile, 'utf8')) : {};
const index = {};
let differ = 0;
for (const file of mode === 'check' ? [...new Set(Object.values(saved).map((e) => e.file))] : [...files, ...big]) {
  for (const [cmd, ...args] of runs) {
    const argv = [cmd, file, ...args];
    const key = argv.map((a) => (a === file ? path.relative(path.dirname(root), file) : a)).join(' ');
    const r = spawnSync(process.execPath, [bin, ...argv], { cwd: root, maxBuffer: 1 << 31, env: { ...process.env, NO_COLOR: '1' } });
    // The report states when it was generated: the only output allowed to change between runs.
    const out = cmd === 'report' ? Buffer.from(r.stdout.toString('utf8').replace(/^(generated|Generated).*$/m, '')) : r.stdout;
    const entry = { file, status: r.status, stdout: digest(out), stdoutBytes: out.length, stderr: r.stderr.toString('utf8') };
    index[key] = entry;
    const name = digest(key).slice(0, 16);
    if (mode === 'save') {
      if (out.length < 4 << 20) writeFileSync(path.join(dir, name + '.out'), out);
      continue;
    }
    const was = saved[key];
    if (!was) continue;
    const same = was.status === entry.status && was.stdout === entry.stdout && was.stderr === entry.stderr;
    if (!same) {
      differ++;
      console.log(`DIFFERS: ${key}: status ${was.status} -> ${entry.status}, stdout ${was.stdoutBytes} -> ${entry.stdoutBytes} bytes${was.stdout === entry.stdout ? ' (same)' : ''}, stderr ${was.stderr === entry.stderr ? 'same' : JSON.stringify(was.stderr) + ' -> ' + JSON.stringify(entry.stderr)}`);
      if (existsSync(path.join(dir, name + '.out'))) writeFileSync(path.join(dir, name + '.now'), out);
    }
  }
}
if (mode === 'save') {
  writeFileSync(indexFile, JSON.stringify(index, null, 1));
  console.log(`saved ${Object.keys(index).length} outputs of ${files.length + big.length} captures to ${dir}`);
} else {
  console.log(differ ? `${differ} of ${Object.keys(saved).length} outputs differ (.now files next to .out in ${dir})` : `all ${Object.keys(saved).length} outputs identical`);
  process.exitCode = differ ? 1 : 0;
}
