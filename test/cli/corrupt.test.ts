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
