/**
 * Corrupted and truncated copies of real captures (fixed seed): the pipeline never throws, reports the
 * damage with an offset inside the file, and every record it emits points at a frame that exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCapture } from '../../src/capture/index.js';
import { extractAtt } from '../../src/bluetooth/index.js';
import { VictronDecoder } from '../../src/victron/index.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';
import { profiles } from '../helpers/decode.js';

const sources = [path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop'), path.join(REPO, 'captures/smartsolar-session.pcapng'), path.join(REPO, 'captures/smartshunt-orion-session.pcap')];

/**
 * Packet records of a capture, walked here by the format's own framing (not by our readers): the
 * offset where each starts and where it ends. pcapng: only packet blocks (EPB, SPB) count as frames.
 */
function packetRecords(b: Buffer): [number, number][] {
  const out: [number, number][] = [];
  if (b.subarray(0, 8).toString('latin1') === 'btsnoop\0') {
    for (let p = 16; p + 24 <= b.length; p += 24 + b.readUInt32BE(p + 4)) out.push([p, p + 24 + b.readUInt32BE(p + 4)]);
  } else if (b.readUInt32LE(0) === 0x0a0d0d0a) {
    for (let p = 0; p + 12 <= b.length; p += b.readUInt32LE(p + 4)) if ([2, 3, 6].includes(b.readUInt32LE(p))) out.push([p, p + b.readUInt32LE(p + 4)]);
  } else {
    const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
    for (let p = 24; p + 16 <= b.length; ) {
      const incl = le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
      out.push([p, p + 16 + incl]);
      p += 16 + incl;
    }
  }
  return out.filter(([, e]) => e <= b.length);
}

test('a capture cut inside record k: every record before it, and a truncated-file warning at record k\'s offset, the capture damaged', async () => {
  let seed = 77;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const src of sources) {
    const whole = readFileSync(src);
    const recs = packetRecords(whole);
    assert.ok(recs.length > 50, src);
    for (let i = 0; i < 6; i++) {
      const k = 5 + Math.floor(rnd() * (recs.length - 10));
      const [start, end] = recs[k]!;
      const cut = start + 1 + Math.floor(rnd() * (end - start - 1)); // strictly inside record k
      const cap = await parseCapture(whole.subarray(0, cut));
      const where = `${path.basename(src)} cut at ${cut} (record ${k + 1} at ${start})`;
      assert.equal(cap.complete, false, where);
      const t = cap.warnings.filter((w) => w.code === 'truncated-file');
      assert.equal(t.length, 1, where);
      assert.equal(t[0]!.fileOffset, start, where);
      assert.deepEqual(cap.records.map((r) => r.fileOffset).filter((o) => o >= start), [], `${where}: nothing from the cut record`);
      assert.equal(cap.records.filter((r) => recs.some(([s]) => s === r.fileOffset)).length, k, where);
    }
  }
});

test('a record whose length field is corrupt: the records before it, and a bad-record warning at its offset', async () => {
  for (const src of sources) {
    const whole = Buffer.from(readFileSync(src));
    const recs = packetRecords(whole);
    const k = Math.floor(recs.length / 2);
    const [start] = recs[k]!;
    const b = Buffer.from(whole);
    // The included/captured length (btsnoop: +4 BE; pcap: +8; pcapng: the block length at +4).
    if (b.subarray(0, 7).toString('latin1') === 'btsnoop') b.writeUInt32BE(0x7fffffff, start + 4);
    else if (b.readUInt32LE(0) === 0x0a0d0d0a) b.writeUInt32LE(0x7ffffff0, start + 4);
    else b.writeUInt32LE(0x7fffffff, start + 8);
    const cap = await parseCapture(b);
    const where = `${path.basename(src)} record ${k + 1} at ${start}`;
    assert.equal(cap.complete, false, where);
    const bad = cap.warnings.filter((w) => w.code === 'bad-record');
    assert.equal(bad[0]?.fileOffset, start, where);
    assert.equal(cap.records.filter((r) => recs.some(([s]) => s === r.fileOffset)).length, k, where);
  }
});

test('corrupted captures: damage reported with an in-file offset, records point at real frames', async () => {
  let seed = 20261124;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 24; i++) {
    const src = readFileSync(sources[i % sources.length]!);
    const cutAt = Math.floor(src.length * (0.3 + 0.7 * rnd()));
    const b = Buffer.from(src.subarray(0, cutAt));
    for (let k = 0; k < 1 + Math.floor(rnd() * 10); k++) b[32 + Math.floor(rnd() * (b.length - 32))] = Math.floor(rnd() * 256);
    const cap = await parseCapture(b);
    for (const w of cap.warnings) if (w.fileOffset !== undefined) assert.ok(w.fileOffset >= 0 && w.fileOffset <= b.length, `case ${i}: offset ${w.fileOffset}`);
    if (!cap.complete) assert.ok(cap.warnings.some((w) => w.code === 'truncated-file' || w.code === 'bad-record'), `case ${i}: damage named`);
    const frames = cap.records.length;
    const { pdus } = extractAtt(cap.records);
    const dec = new VictronDecoder({ profiles });
    const recs = [...pdus.flatMap((p) => dec.pushAtt(p)), ...dec.finish()];
    for (const r of recs) {
      assert.ok(r.frame >= 1 && r.frame <= frames, `case ${i}: frame ${r.frame} of ${frames}`);
      assert.ok(r.frames.every((f) => f >= 1 && f <= frames));
      assert.ok(['message', 'control', 'unknown', 'padding'].includes(r.kind));
    }
  }
});
