/** `dataOffset`: each record's HCI bytes are the file's bytes at that offset, in every format (ours and editcap's). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCapture } from '../../src/capture/index.js';
import { REPO } from '../helpers/tshark.js';

const dir = path.join(REPO, 'test/fixtures');

for (const name of readdirSync(dir)) {
  test(`dataOffset points at each record's HCI bytes: ${name}`, async () => {
    const file = readFileSync(path.join(dir, name));
    const cap = await parseCapture(file);
    assert.ok(cap.records.length > 50);
    let checked = 0;
    for (const r of cap.records) {
      assert.ok(r.dataOffset !== undefined, `frame ${r.frame}`);
      assert.deepEqual(file.subarray(r.dataOffset, r.dataOffset + r.data.length), Buffer.from(r.data), `frame ${r.frame}`);
      // The byte before an H4 packet is its packet type (btsnoop 1002, pcap 187/201).
      if (/h4|^att-session(\.|-be|-ns|-2sections)/.test(name) && !name.includes('monitor') && r.packetType !== undefined) assert.equal(file[r.dataOffset - 1], r.packetType, `frame ${r.frame} type byte`);
      checked++;
    }
    assert.equal(checked, cap.records.length);
  });
}
