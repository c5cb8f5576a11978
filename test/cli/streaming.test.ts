/**
 * Issue 13: output is streamed as it is produced, and input can come from a pipe.
 * - A capture still being written (a FIFO) shows its first records before the writer is done.
 * - '-' is standard input (as tshark -r -); a pipe is read once, as it arrives.
 * - A record a stage cannot read mid-file: a warning with its offset, exit 2, every other record
 *   printed, through the real CLI (main(argv)) with a fault injected in the ATT layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';
import { writeBtsnoop } from '../helpers/capture-writer.js';
import { atomicSession } from '../helpers/scenario.js';
import { buildZip } from '../helpers/bugreport.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-stream-'));
const BIN = path.join(REPO, 'bin/vgatt.js');
const vgatt = (args: string[], input?: Buffer) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const sample = path.join(REPO, 'captures/smartshunt-orion-session.btsnoop');
const lines = (s: string) => s.split('\n').filter(Boolean);

/** Byte offsets where each btsnoop record ends (header 16 bytes, record header 24 + included length). */
function btsnoopRecordEnds(b: Buffer): number[] {
  const ends: number[] = [];
  for (let off = 16; off + 24 <= b.length; ) {
    off += 24 + b.readUInt32BE(off + 4);
    ends.push(off);
  }
  return ends;
}

test('a capture still being written (FIFO): the first records are printed before the writer is done, then all of them', async () => {
  const bytes = readFileSync(sample);
  const whole = vgatt(['decode', '--format', 'ndjson', sample]);
  assert.equal(whole.code, 0, whole.err);
  const fifo = path.join(tmp, 'live.btsnoop');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // Cut in the middle of a record, half way through the file.
  const cut = btsnoopRecordEnds(bytes).find((e) => e > bytes.length / 2)! - 5;
  const child = spawn(process.execPath, [BIN, 'decode', '--format', 'ndjson', fifo]);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const fh = await open(fifo, 'w');
  try {
    await fh.write(bytes.subarray(0, cut));
    // The writer keeps the FIFO open: output must come anyway (flushed while the reader waits).
    const deadline = Date.now() + 20_000;
    while (lines(out).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const early = lines(out);
    assert.ok(early.length > 0, `no record printed while the capture was still open (stderr: ${err})`);
    assert.ok(early.length < lines(whole.out).length, 'records after the cut cannot be known yet');
    assert.deepEqual(early, lines(whole.out).slice(0, early.length), 'the early records are the first records of the whole decode');
    await fh.write(bytes.subarray(cut));
  } catch (e) {
    child.kill();
    throw e;
  } finally {
    await fh.close();
  }
  assert.equal(await exited, 0, err);
  assert.equal(out, whole.out, 'once the writer is done, the output is that of the file');
});

test("'-' reads standard input: a pipe gives the output of the file; damage in it is named with its offset (exit 2)", () => {
  const bytes = readFileSync(sample);
  for (const args of [['decode', '--format', 'ndjson'], ['att', '--format', 'csv']]) {
    const file = vgatt([...args, sample]);
    const piped = vgatt([...args, '-'], bytes);
    assert.equal(piped.code, 0, piped.err);
    assert.equal(piped.out, file.out, `${args.join(' ')}`);
  }
  // Cut 7 bytes into a record: the warning names the offset where that record starts.
  const ends = btsnoopRecordEnds(bytes);
  const start = ends[9]!;
  const cut = vgatt(['att', '--format', 'ndjson', '-'], bytes.subarray(0, start + 7));
  assert.equal(cut.code, 2);
  assert.match(cut.err, new RegExp(`capture ends inside a record at byte offset ${start} \\(frame 11\\): 7 byte\\(s\\) of an incomplete record ignored`));
  assert.equal(Math.max(...lines(cut.out).map((l) => JSON.parse(l).frame)), Math.max(...lines(vgatt(['att', '--format', 'ndjson', sample]).out).map((l) => JSON.parse(l).frame).filter((f) => f <= 10)));
  // Not a capture: one line, exit 1.
  const text = vgatt(['att', '-'], Buffer.from('hello\n'));
  assert.equal(text.code, 1);
  assert.equal(lines(text.err).length, 1);
  assert.match(text.err, /not a capture file: unrecognised first bytes 68656c6c6f0a at byte offset 0/);
});

test('a pipe cannot hold what must be read twice: a bug report zip, and the input of anonymize (one line, exit 1)', async () => {
  const zip = await buildZip([{ name: 'FS/data/misc/bluetooth/logs/btsnoop_hci.log', data: readFileSync(sample) }]);
  const z = vgatt(['decode', '-'], zip);
  assert.equal(z.code, 1);
  assert.match(z.err, /^vgatt: error: <stdin>: a zip \(Android bug report\) cannot be read from a pipe: its index is at its end; save it to a file first\n$/);
  const a = vgatt(['anonymize', '-', path.join(tmp, 'anon.btsnoop')], readFileSync(sample));
  assert.equal(a.code, 1);
  assert.match(a.err, /anonymize reads its input several times, which a pipe or standard input cannot give; save it to a file first\n$/);
  // '-' as an option's value is that value, not standard input: -o - is standard output.
  const o = vgatt(['report', sample, '-o', '-']);
  assert.equal(o.code, 0, o.err);
  assert.equal(o.out, vgatt(['report', sample]).out);
  assert.match(o.out, /fd:d4:50:0f:6c:1b/);
});

test('a record the ATT layer cannot read, through the CLI: a warning with its byte offset, exit 2, every other record printed', () => {
  // Fault injection in a child running the real main(argv): a stand-in for any bug odd bytes meet.
  const p = path.join(tmp, 'session.btsnoop');
  const bytes = Buffer.from(writeBtsnoop(atomicSession()));
  writeFileSync(p, bytes);
  const script = path.join(tmp, 'inject.mts');
  writeFileSync(
    script,
    `import { AttExtractor } from ${JSON.stringify(path.join(REPO, 'src/bluetooth/index.ts'))};
import { main } from ${JSON.stringify(path.join(REPO, 'src/cli.ts'))};
const orig = AttExtractor.prototype.pushOne;
AttExtractor.prototype.pushOne = function (rec) {
  if (rec.frame === 7) throw new TypeError('injected');
  return orig.call(this, rec);
};
process.exitCode = await main(process.argv.slice(2));
`,
  );
  const offset7 = btsnoopRecordEnds(bytes)[5]!; // frame 7 starts where frame 6 ends
  const normal = lines(vgatt(['att', '--format', 'ndjson', p]).out).map((l) => JSON.parse(l));
  assert.ok(normal.some((r) => r.frame === 7) && normal.some((r) => r.frame > 7));
  for (const cmd of ['att', 'decode']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, cmd, '--format', 'ndjson', p], { encoding: 'utf8', cwd: REPO });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^vgatt: warning: frame 7 at byte offset ${offset7} could not be decoded \\(injected\\); skipped$`, 'm'));
    assert.doesNotMatch(r.stderr, /at AttExtractor/, 'no stack trace without --verbose');
    const got = lines(r.stdout).map((l) => JSON.parse(l));
    if (cmd === 'att') assert.deepEqual(got.map((x) => x.frame), normal.filter((x) => x.frame !== 7).map((x) => x.frame));
    else assert.ok(got.length > 0 && got.some((x) => x.frame > 7), 'Victron records after the damage are printed');
  }
});
