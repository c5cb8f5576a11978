/**
 * The oracle test (issue 2): for every capture we ship, every committed fixture and the real captures
 * in ../shared/captures, our ATT extraction equals tshark's record for record:
 * frame number, opcode, every btatt.handle occurrence, btatt.value; and our ATT PDU bytes equal
 * tshark's reassembled btatt bytes (this covers values Wireshark moves into UUID-specific fields).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { scanAtt } from '../src/pipeline.js';
import { attToJson } from '../src/output/att.js';
import { toHex } from '../src/util/cursor.js';
import { capturesIn, REPO, SHARED_CAPTURES, tsharkAtt, tsharkAttRaw } from './helpers/tshark.js';

/** Where an attribute value starts in the PDUs that carry one whole: opcode (1), handle (2), offset (2). */
const VALUE_AFTER: Record<number, number> = { 0x0b: 1, 0x0d: 1, 0x0f: 1, 0x12: 3, 0x52: 3, 0x1b: 3, 0x1d: 3, 0x16: 5, 0x17: 5 };

const files = [...capturesIn(path.join(REPO, 'captures')), ...capturesIn(path.join(REPO, 'test', 'fixtures')), ...capturesIn(SHARED_CAPTURES)];

test('the real shared captures are present', () => {
  assert.ok(capturesIn(SHARED_CAPTURES).length >= 5, `expected the real captures in ${SHARED_CAPTURES}`);
});

for (const file of files) {
  test(`ATT extraction equals tshark: ${path.relative(path.dirname(REPO), file)}`, async () => {
    const scan = await scanAtt(file);
    const ours: { timeUs: number; frame: number; opcode: number; handles: number[]; value: string; raw: string; known: boolean }[] = [];
    for await (const pdu of scan.pdus()) {
      const j = attToJson(pdu);
      ours.push({ timeUs: pdu.timeUs, frame: j.frame, opcode: j.opcode, handles: j.handles ?? (j.handle !== undefined ? [j.handle] : []), value: j.value ?? '', raw: toHex(pdu.raw), known: false });
    }
    const theirs = tsharkAtt(file);
    assert.equal(ours.length, theirs.length, 'number of ATT PDUs');
    const raw = tsharkAttRaw(file);
    for (let i = 0; i < theirs.length; i++) {
      const a = ours[i]!;
      const b = theirs[i]!;
      const where = `frame ${b.frame}`;
      assert.equal(a.frame, b.frame, `${where}: frame`);
      assert.equal(a.opcode, b.opcode, `${where}: opcode`);
      assert.equal(a.timeUs, b.timeUs, `${where}: time (us)`);
      assert.deepEqual(a.handles, b.handles, `${where}: handles`);
      assert.equal(a.raw, raw.get(b.frame), `${where}: ATT bytes`);
      if (b.value !== '' || a.value === '') assert.equal(a.value, b.value, `${where}: value`);
      else {
        // Wireshark moved the value into a UUID-specific field: it must be tshark's PDU bytes after the
        // opcode's header (Core spec Vol 3 Part F 3.4), counted here, not by our decoder.
        const header = VALUE_AFTER[b.opcode];
        assert.ok(header !== undefined, `${where}: tshark shows no value for opcode 0x${b.opcode.toString(16)}, which carries none`);
        assert.equal(a.value, raw.get(b.frame)!.slice(2 * header), `${where}: value is the PDU after its ${header}-byte header`);
      }
    }
  });
}
