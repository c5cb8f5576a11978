/**
 * Android bug reports as users get them: zips around the shared Android snoop log (one log, a rotated
 * pair, none, damaged), and btsnooz summaries (v1, v2) from the text dump, alone or inside a zip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCaptures, parseCapture, type CaptureWarning, type HciRecord } from '../../src/capture/index.js';
import { extractAtt } from '../../src/bluetooth/index.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';
import { buildZip, encodeSnooz, snoozText, splitBtsnoop, SNOOZ_ACL_KEEP } from '../helpers/bugreport.js';

const ANDROID = path.join(SHARED_CAPTURES, 'govee-h5100-android.btsnoop');
const SHUNT = path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop');
const LOGS = 'FS/data/misc/bluetooth/logs';
const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-bugreport-'));
const android = readFileSync(ANDROID);
const OTHER = [
  { name: 'main_entry.txt', data: 'bugreport-walleye-2024-01-27.txt' },
  { name: 'version.txt', data: '2.0' },
  { name: 'FS/proc/cpuinfo', data: 'processor : 0\n' },
];

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function readAll(file: string) {
  const warnings: CaptureWarning[] = [];
  const readers = await openCaptures(file, { onWarning: (w) => warnings.push(w) });
  const out: { path: string; records: HciRecord[]; complete: boolean; format: string }[] = [];
  for (const r of readers) {
    const records: HciRecord[] = [];
    for await (const rec of r.records()) records.push(rec);
    out.push({ path: r.path, records, complete: r.complete, format: r.info.format });
  }
  return { captures: out, warnings };
}

const key = (r: HciRecord) => `${r.frame}/${r.timeUs}/${r.packetType}/${r.direction}/${Buffer.from(r.data).toString('hex')}`;

test('bug report zip: the snoop log is found in FS/data/misc/bluetooth/logs and read record for record', async () => {
  const zip = path.join(dir, 'one.zip');
  writeFileSync(zip, await buildZip([...OTHER, { name: `${LOGS}/btsnoop_hci.log`, data: android }]));
  const direct = (await parseCapture(android)).records;
  const { captures } = await readAll(zip);
  assert.equal(captures.length, 1);
  assert.equal(captures[0]!.path, `${zip}:${LOGS}/btsnoop_hci.log`);
  assert.equal(captures[0]!.records.length, direct.length);
  assert.equal(captures[0]!.records.length, 18509);
  assert.deepEqual(captures[0]!.records.map(key), direct.map(key));
  assert.equal(captures[0]!.complete, true);
});

test('rotated logs in a zip: .last then the current log, each with its own frame numbers and a file field', async () => {
  const [last, current] = splitBtsnoop(android, 9000);
  const zip = path.join(dir, 'two.zip');
  // Entry order in the zip is not the age order: the reader sorts by first packet time.
  writeFileSync(zip, await buildZip([{ name: `${LOGS}/btsnoop_hci.log`, data: current }, ...OTHER, { name: `${LOGS}/btsnoop_hci.log.last`, data: last }]));
  const { captures } = await readAll(zip);
  assert.deepEqual(captures.map((c) => c.path.slice(zip.length + 1)), [`${LOGS}/btsnoop_hci.log.last`, `${LOGS}/btsnoop_hci.log`]);
  assert.deepEqual(captures.map((c) => c.records.length), [9000, 9509]);
  assert.deepEqual([captures[1]!.records[0]!.frame, captures[1]!.records.at(-1)!.frame], [1, 9509]);
  // The ATT PDUs of the whole log are the PDUs of the two parts, frames shifted by the split (Wireshark numbers each file from 1).
  const whole = vgatt('att', ANDROID, '--format', 'ndjson').out.trim().split('\n').map((l) => JSON.parse(l));
  const r = vgatt('att', zip, '--format', 'ndjson');
  assert.equal(r.code, 0, r.err);
  const parts = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(parts.length, whole.length);
  for (let i = 0; i < whole.length; i++) {
    const w = whole[i];
    const p = parts[i];
    const inLast = w.frame <= 9000;
    assert.equal(p.file, `${zip}:${LOGS}/btsnoop_hci.log${inLast ? '.last' : ''}`);
    assert.equal(p.frame, inLast ? w.frame : w.frame - 9000);
    assert.deepEqual([p.opcode, p.handle, p.value, p.session], [w.opcode, w.handle, w.value, w.session]);
  }
  // One file: no file field.
  assert.equal(whole[0].file, undefined);
  const csv = vgatt('att', zip, '--format', 'csv').out.split('\n');
  assert.match(csv[0]!, /,session,file$/);
  assert.ok(csv[1]!.endsWith(`,${zip}:${LOGS}/btsnoop_hci.log.last`), csv[1]);
});

test('several files on the command line: read in order, frames per file', () => {
  const a = path.join(dir, 'btsnoop_hci.log.last');
  const b = path.join(dir, 'btsnoop_hci.log');
  const [last, current] = splitBtsnoop(readFileSync(SHUNT), 1217);
  writeFileSync(a, last);
  writeFileSync(b, current);
  const r = vgatt('decode', a, b, '--format', 'ndjson');
  assert.equal(r.code, 0, r.err);
  const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(recs.every((x) => x.file === a || x.file === b));
  const firstB = recs.findIndex((x) => x.file === b);
  assert.ok(firstB > 0 && recs.slice(firstB).every((x) => x.file === b), 'files in order');
  assert.ok(recs.slice(firstB).every((x) => x.frame >= 1 && x.frame <= 2434 - 1217));
});

test('a zip without a snoop log says what it holds and how to enable the full log (exit 1, one line)', async () => {
  const zip = path.join(dir, 'none.zip');
  writeFileSync(zip, await buildZip([...OTHER, { name: 'bugreport-walleye-2024-01-27.txt', data: '== dumpstate: 2024-01-27\nnothing here\n' }]));
  const r = vgatt('decode', zip);
  assert.equal(r.code, 1);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /no Bluetooth snoop log in this zip/);
  assert.match(lines[0]!, /4 entries: main_entry\.txt, version\.txt, FS\/ \(1 file\), bugreport-walleye-2024-01-27\.txt/);
  assert.match(lines[0]!, /Enable Bluetooth HCI snoop log > Enabled/);
});

test('a damaged zip: every complete record before the damage, one line naming the entry and offset (exit 2)', async () => {
  const bytes = await buildZip([{ name: `${LOGS}/btsnoop_hci.log`, data: android }, ...OTHER]);
  // The entry's deflate data starts after the 30-byte local header and its name; break it two thirds in.
  const dataStart = 30 + `${LOGS}/btsnoop_hci.log`.length;
  const compressed = bytes.readUInt32LE(18);
  const at = dataStart + Math.floor((compressed * 2) / 3);
  const bad = Buffer.from(bytes);
  bad.fill(0xff, at, at + 64);
  const zip = path.join(dir, 'bad.zip');
  writeFileSync(zip, bad);
  const { captures, warnings } = await readAll(zip);
  assert.equal(captures[0]!.complete, false);
  const recs = captures[0]!.records;
  const direct = (await parseCapture(android)).records;
  // Deflate damage can inflate to garbage before zlib notices: the records up to the damage are exact,
  // and the reader stops soon after it (bad inflate, implausible record, or the CRC).
  let same = 0;
  while (same < recs.length && key(recs[same]!) === key(direct[same]!)) same++;
  assert.ok(same > 5000 && same < direct.length, `${same} exact records before the damage`);
  assert.ok(recs.length - same <= 50, `${recs.length - same} records after the damage`);
  const damage = warnings.filter((w) => w.code === 'bad-record' || w.code === 'truncated-file');
  assert.equal(damage.length, 1, JSON.stringify(warnings));
  assert.equal(damage[0]!.file, `${zip}:${LOGS}/btsnoop_hci.log`);
  assert.match(damage[0]!.message, /(byte offset \d+ of the entry \(zip byte offset \d+\)|corrupt record at byte offset \d+)/);
  const r = vgatt('att', zip, '--format', 'ndjson');
  assert.equal(r.code, 2);
  const lines = r.err.trim().split('\n').filter((l) => /corrupt|damaged|cut short|mismatch|invalid/.test(l));
  assert.equal(lines.length, 1, r.err);
  assert.ok(lines[0]!.startsWith(`vgatt: warning: ${zip}:${LOGS}/btsnoop_hci.log: `), lines[0]);
  // Not a zip at all past its first bytes: one line, exit 1.
  writeFileSync(zip, Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(200, 0x55)]));
  const junk = vgatt('att', zip);
  assert.equal(junk.code, 1);
  assert.match(junk.err, /^vgatt: error: .*bad\.zip: not a readable zip: .*\n$/);
});

/** Local header offsets and what they say (signature 0x04034b50), read by hand from the zip's bytes. */
function localHeaders(zip: Buffer): { name: string; flags: number; dataStart: number }[] {
  const out: { name: string; flags: number; dataStart: number }[] = [];
  for (let p = zip.indexOf(Buffer.from('PK\x03\x04', 'latin1')); p >= 0; p = zip.indexOf(Buffer.from('PK\x03\x04', 'latin1'), p + 4)) {
    const n = zip.readUInt16LE(p + 26);
    out.push({ name: zip.subarray(p + 30, p + 30 + n).toString(), flags: zip.readUInt16LE(p + 6), dataStart: p + 30 + n + zip.readUInt16LE(p + 28) });
  }
  return out;
}

test('a bug report zip cut short (no central directory): entries found by their local headers, every record before the cut, exit 2', async () => {
  const direct = (await parseCapture(android)).records;
  const text = `== dumpstate: 2024-01-27 12:00:00\n${'------ DUMPSYS something ------\nline of a long text dump\n'.repeat(20000)}`;
  // Sizes in the local header (addBuffer), and sizes only after the data (bit 3, as a streaming writer
  // such as Android's libziparchive writes them): the walk must inflate that entry to find its end.
  for (const streamed of [false, true]) {
    const bytes = await buildZip([{ name: 'bugreport-walleye-2024-01-27.txt', data: text, descriptor: streamed }, { name: `${LOGS}/btsnoop_hci.log`, data: android, descriptor: streamed }]);
    const heads = localHeaders(bytes);
    assert.deepEqual(heads.map((h) => [h.name, (h.flags & 8) !== 0]), [['bugreport-walleye-2024-01-27.txt', streamed], [`${LOGS}/btsnoop_hci.log`, streamed]]);
    const log = heads[1]!;
    const zip = path.join(dir, `cut-${streamed}.zip`);

    // Cut inside the snoop log's deflate data, half way: the records the kept bytes hold, exactly.
    const cutAt = log.dataStart + Math.floor((bytes.length - 200 - log.dataStart) / 2);
    writeFileSync(zip, bytes.subarray(0, cutAt));
    const { captures, warnings } = await readAll(zip);
    assert.equal(captures.length, 1);
    assert.equal(captures[0]!.path, `${zip}:${LOGS}/btsnoop_hci.log`);
    assert.equal(captures[0]!.complete, false);
    const recs = captures[0]!.records;
    assert.ok(recs.length > 1000 && recs.length < direct.length, `${recs.length} of ${direct.length} records`);
    assert.deepEqual(recs.map(key), direct.slice(0, recs.length).map(key));
    const note = warnings.find((w) => w.message.includes('not a complete zip'))!;
    assert.match(note.message, new RegExp(`found 2 entries by their local headers; the zip ends at byte offset ${cutAt}, inside ${LOGS}/btsnoop_hci\\.log`));
    const cutShort = warnings.filter((w) => /deflate data cut short|cut short inside this entry/.test(w.message));
    assert.equal(cutShort.length, 1, JSON.stringify(warnings));
    assert.match(cutShort[0]!.message, /at byte offset \d+ of the entry \(zip byte offset \d+\)/);
    const zipOffset = Number(/zip byte offset (\d+)/.exec(cutShort[0]!.message)![1]);
    assert.ok(zipOffset > log.dataStart && zipOffset <= cutAt, `${zipOffset} within the entry's data, at most the cut ${cutAt}`);
    const r = vgatt('att', zip, '--format', 'ndjson');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /not a complete zip/);

    // Cut only in the central directory: the whole log, as from the file itself.
    writeFileSync(zip, bytes.subarray(0, bytes.length - 30));
    const whole = await readAll(zip);
    assert.deepEqual(whole.captures[0]!.records.map(key), direct.map(key));
    assert.ok(whole.warnings.some((w) => /not a complete zip .*found 2 entries by their local headers$/.test(w.message)), JSON.stringify(whole.warnings));
  }
});

/** The original's ATT PDUs next to the summary's: same frames, opcodes, handles; values whole or cut to what the summary kept. */
async function compareAtt(original: HciRecord[], summary: HciRecord[], cutAcl: boolean) {
  const a = extractAtt(original).pdus;
  const b = extractAtt(summary).pdus;
  assert.equal(b.length, a.length);
  let cut = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    assert.deepEqual([y.frame, y.timeUs, y.opcode, y.direction, y.connection, y.session], [x.frame, x.timeUs, x.opcode, x.direction, x.connection, x.session]);
    const whole = 4 + 4 + x.raw.length <= SNOOZ_ACL_KEEP || !cutAcl;
    if (whole) assert.deepEqual([y.handle, Buffer.from(y.raw).toString('hex'), y.truncated], [x.handle, Buffer.from(x.raw).toString('hex'), false]);
    else {
      cut++;
      assert.equal(y.truncated, true);
      assert.equal(Buffer.from(x.raw).toString('hex').startsWith(Buffer.from(y.raw).toString('hex')), true);
      assert.equal(y.raw.length, SNOOZ_ACL_KEEP - 8);
    }
  }
  return cut;
}

test('btsnooz v2 summary in a bug report text: the original ATT PDUs, values cut where the summary cut them', async () => {
  const original = (await parseCapture(readFileSync(SHUNT))).records;
  const txt = path.join(dir, 'bugreport-v2.txt');
  writeFileSync(txt, snoozText(encodeSnooz(original, 2)));
  const { captures, warnings } = await readAll(txt);
  assert.equal(captures.length, 1);
  assert.equal(captures[0]!.format, 'btsnooz');
  assert.equal(captures[0]!.complete, true);
  const got = captures[0]!.records;
  assert.equal(got.length, original.length);
  const cut = await compareAtt(original, got, true);
  assert.ok(cut > 1000, `${cut} values cut`);
  const summary = warnings.find((w) => w.code === 'summary');
  assert.match(summary!.message, /btsnooz summary \(BTSNOOP_LOG_SUMMARY, version 2, line 3 of the text\): only the 2434 most recent packets .* ACL packet\(s\) cut/);
  // The same text inside an Android 8-10 bug report zip (no snoop log file).
  const zip = path.join(dir, 'old.zip');
  writeFileSync(zip, await buildZip([...OTHER, { name: 'bugreport-walleye-2019-05-01.txt', data: readFileSync(txt) }]));
  const z = await readAll(zip);
  assert.equal(z.captures[0]!.path, `${zip}:bugreport-walleye-2019-05-01.txt`);
  assert.deepEqual(z.captures[0]!.records.map(key), got.map(key));
});

test('btsnooz v1 keeps whole packets: every ATT PDU equal to the original', async () => {
  const original = (await parseCapture(android)).records;
  const txt = path.join(dir, 'bugreport-v1.txt');
  writeFileSync(txt, snoozText(encodeSnooz(original, 1)));
  const { captures } = await readAll(txt);
  assert.equal(await compareAtt(original, captures[0]!.records, false), 0);
});

test('btsnooz damage: bad base64 and cut deflate give the complete packets before, one warning with the offset', async () => {
  const original = (await parseCapture(readFileSync(SHUNT))).records;
  const text = snoozText(encodeSnooz(original, 2));
  const lines = text.split('\n');
  // Line 40 of the file is inside the base64 block; a bad character there.
  lines[39] = lines[39]!.slice(0, 50) + '*' + lines[39]!.slice(51);
  const offset = lines.slice(0, 39).join('\n').length + 1;
  const txt = path.join(dir, 'bad-b64.txt');
  writeFileSync(txt, lines.join('\n'));
  const { captures, warnings } = await readAll(txt);
  const got = captures[0]!.records;
  assert.ok(got.length > 100 && got.length < original.length, `${got.length} packets`);
  assert.equal(captures[0]!.complete, false);
  const damage = warnings.filter((w) => w.code === 'truncated-file');
  assert.equal(damage.length, 1);
  assert.match(damage[0]!.message, new RegExp(`^bad base64 at line 40 \\(byte offset ${offset}\\) of the BTSNOOP_LOG_SUMMARY section`));
  // The packets kept are the first ones, in order, complete (their times need the last timestamp, so only compare bytes).
  for (let i = 0; i < got.length; i++) assert.equal(Buffer.from(got[i]!.data).toString('hex'), Buffer.from(original[i]!.data.subarray(0, got[i]!.data.length)).toString('hex'));
  // No END line: the text was cut.
  writeFileSync(txt, text.slice(0, Math.floor(text.length / 2)));
  const r = vgatt('att', txt, '--format', 'ndjson');
  assert.equal(r.code, 2);
  assert.match(r.err, /btsnooz summary/);
  assert.match(r.err, /has no END line \(text cut short at byte offset \d+\)/);
  assert.ok(r.out.trim().split('\n').length > 50);
});
