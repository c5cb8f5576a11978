/**
 * Checks that a rework leaves vgatt's output unchanged (a development aid, not a test: the reference is
 * our own earlier output). `save DIR` runs every command/format on every capture (captures/,
 * test/fixtures/, ../shared/captures/, and any file given with --also) and stores stdout, stderr and exit
 * status; `check DIR` runs the same with the current code and lists what differs, byte for byte.
 *   node scripts/output-compare.mjs save /tmp/before [--bin path/to/vgatt.js] [--also big.btsnoop]
 *   node scripts/output-compare.mjs check /tmp/before [--only 'ndjson']
 * Large outputs are stored as a SHA-256 only.
 */
import { spawn } from 'node:child_process';
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
// `--only REGEX`: just the outputs whose "command capture options" match.
const only = opt('--only')[0] ? new RegExp(opt('--only')[0]) : undefined;
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
const KEEP = 4 << 20;

/** Runs vgatt; stdout is hashed as it streams (outputs of big captures are hundreds of MB), kept when small. */
function run(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    const kept = [];
    let bytes = 0;
    const errs = [];
    child.stdout.on('data', (d) => {
      hash.update(d);
      if (bytes < KEEP) kept.push(d);
      bytes += d.length;
    });
    child.stderr.on('data', (d) => errs.push(d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, digest: hash.digest('hex'), bytes, stdout: bytes < KEEP ? Buffer.concat(kept) : undefined, stderr: Buffer.concat(errs).toString('utf8') }));
  });
}
mkdirSync(dir, { recursive: true });
const indexFile = path.join(dir, 'index.json');
const saved = mode === 'check' ? JSON.parse(readFileSync(indexFile, 'utf8')) : {};
const index = {};
let differ = 0;
for (const file of mode === 'check' ? [...new Set(Object.values(saved).map((e) => e.file))] : [...files, ...big]) {
  for (const [cmd, ...args] of runs) {
    const argv = [cmd, file, ...args];
    const key = argv.map((a) => (a === file ? path.relative(root, file) : a)).join(' ');
    if (only && !only.test(key)) continue;
    const r = await run(argv);
    const out = r.stdout;
    const entry = { file, status: r.status, stdout: r.digest, stdoutBytes: r.bytes, stderr: r.stderr };
    index[key] = entry;
    const name = digest(key).slice(0, 16);
    if (mode === 'save') {
      if (out) writeFileSync(path.join(dir, name + '.out'), out);
      continue;
    }
    const was = saved[key];
    if (!was) continue;
    const same = was.status === entry.status && was.stdout === entry.stdout && was.stderr === entry.stderr;
    if (!same) {
      differ++;
      console.log(`DIFFERS: ${key}: status ${was.status} -> ${entry.status}, stdout ${was.stdoutBytes} -> ${entry.stdoutBytes} bytes${was.stdout === entry.stdout ? ' (same)' : ''}, stderr ${was.stderr === entry.stderr ? 'same' : JSON.stringify(was.stderr) + ' -> ' + JSON.stringify(entry.stderr)}`);
      if (out && existsSync(path.join(dir, name + '.out'))) writeFileSync(path.join(dir, name + '.now'), out);
    }
  }
}
if (mode === 'save') {
  writeFileSync(indexFile, JSON.stringify(index, null, 1));
  console.log(`saved ${Object.keys(index).length} outputs of ${files.length + big.length} captures to ${dir}`);
} else {
  const n = Object.keys(index).length;
  console.log(differ ? `${differ} of ${n} outputs differ (.now files next to .out in ${dir})` : `all ${n} outputs identical`);
  process.exitCode = differ ? 1 : 0;
}
