/**
 * Corrupted and truncated copies of real and sample captures (fixed seed) through anonymize: it
 * never throws on damage, never writes more than the input, writes the input's bytes except where
 * it replaced a value, and says when the input was damaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anonymizeCapture } from '../../src/anonymize/index.js';
import { CaptureError } from '../../src/capture/index.js';
import { profiles } from '../helpers/decode.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';

const sources = [path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop'), path.join(REPO, 'captures/smartsolar-session.pcapng'), path.join(REPO, 'captures/smartshunt-orion-session.pcap')];

test('anonymize on damaged captures: no crash, output no longer than the input, damage reported', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-anon-damaged-'));
  let seed = 20261125;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let damaged = 0;
  for (let i = 0; i < 18; i++) {
    const src = readFileSync(sources[i % sources.length]!);
    const b = Buffer.from(src.subarray(0, Math.floor(src.length * (0.3 + 0.7 * rnd()))));
    for (let k = 0; k < 1 + Math.floor(rnd() * 10); k++) b[32 + Math.floor(rnd() * (b.length - 32))] = Math.floor(rnd() * 256);
    const input = path.join(dir, `in-${i}`);
    const output = path.join(dir, `out-${i}`);
    writeFileSync(input, b);
    let r;
    try {
      r = await anonymizeCapture(input, output, { profiles, seed: `case ${i}` });
    } catch (e) {
      assert.ok(e instanceof CaptureError, `case ${i}: ${(e as Error).stack}`);
      continue;
    }
    const out = readFileSync(output);
    assert.ok(out.length <= b.length, `case ${i}`);
    assert.equal(out.length, r.bytesWritten);
    if (!r.complete) {
      damaged++;
      assert.ok(r.warnings.some((w) => w.fileOffset !== undefined && w.fileOffset <= b.length), `case ${i}: damage has an offset`);
    }
    // Every byte not replaced is the input's: the changed bytes are few (addresses, serials, keys).
    let changed = 0;
    for (let k = 0; k < out.length; k++) if (out[k] !== b[k]) changed++;
    assert.equal(changed, r.counts.bytesChanged, `case ${i}`);
    assert.ok(changed < out.length / 20, `case ${i}: ${changed} bytes changed`);
  }
  assert.ok(damaged >= 10, `${damaged} damaged inputs`);
});
