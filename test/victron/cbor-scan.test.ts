import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ItemScanner, MAX_LENGTH, readItem } from '../../src/victron/cbor.js';
import { fromHex } from '../../src/util/cursor.js';

const classify = (buf: Uint8Array) => {
  const r = readItem(buf, 0);
  return r.ok ? `end ${r.end}` : r.needMore ? 'need' : 'bad';
};
const scanClass = (s: ItemScanner, buf: Uint8Array) => {
  const r = s.resume(buf);
  return r.done ? `end ${r.end}` : r.needMore ? 'need' : 'bad';
};

// Bytes that make CBOR structure often: heads of every major type, breaks, indefinite and reserved ai.
const cborish = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x5f, 0x7f, 0x9f, 0xbf, 0xff, 0x41, 0x42, 0x61, 0x81, 0x82, 0xa1, 0xc1, 0x18, 0x19, 0x58, 0x59, 0x1c, 0xf8, 0xf9, 0x00, 0x01),
);

test('ItemScanner agrees with readItem on every prefix: end, need more, or malformed', () => {
  fc.assert(
    fc.property(fc.array(cborish, { maxLength: 40 }), (bytes) => {
      const buf = Uint8Array.from(bytes);
      for (let n = 0; n <= buf.length; n++) {
        const prefix = buf.subarray(0, n);
        assert.equal(scanClass(new ItemScanner(0), prefix), classify(prefix), `prefix ${n} of ${Buffer.from(buf).toString('hex')}`);
      }
    }),
    { numRuns: 3000 },
  );
});

test('ItemScanner resumed piece by piece gives what a fresh read of the whole buffer gives', () => {
  fc.assert(
    fc.property(fc.array(cborish, { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), (bytes, cuts) => {
      const buf = Uint8Array.from(bytes);
      const s = new ItemScanner(0);
      let n = 0;
      let i = 0;
      for (;;) {
        const got = scanClass(s, buf.subarray(0, n));
        if (got !== 'need' || n === buf.length) {
          assert.equal(got, classify(buf.subarray(0, n)));
          return;
        }
        n = Math.min(buf.length, n + cuts[i++ % cuts.length]!);
      }
    }),
    { numRuns: 3000 },
  );
});

test('ItemScanner: limits and nesting, hand-written', () => {
  const cases: [string, string][] = [
    ['5f 41 00 ff', 'end 4'],
    ['5f 41 00', 'need'],
    ['5f 61 00 ff', 'bad'], // text chunk in a byte string
    ['9f 01 02 ff', 'end 4'],
    ['bf 01 ff', 'bad'], // key without value
    ['c1 82 01', 'need'],
    ['c1 82 01 02', 'end 4'],
    ['1c', 'bad'],
    ['f8 10', 'bad'],
    ['5a 00 01 00 01', 'bad'], // longer than MAX_LENGTH
    ['81'.repeat(33) + '00', 'bad'], // deeper than MAX_DEPTH
    ['81'.repeat(32) + '00', `end 33`],
  ];
  for (const [hex, want] of cases) {
    const b = fromHex(hex.replace(/ /g, ''));
    assert.equal(scanClass(new ItemScanner(0), b), want, hex);
    assert.equal(classify(b), want, hex);
  }
  assert.equal(MAX_LENGTH, 65536);
});

test('ItemScanner positions are absolute: resuming after the buffer start moved', () => {
  const s = new ItemScanner(10);
  assert.deepEqual(s.resume(fromHex('5f4100'), 10), { done: false, needMore: true });
  // The stream consumed 10 bytes before the item: the same bytes now start at absolute 10 = buf[0].
  assert.deepEqual(s.resume(fromHex('5f410041ffff'), 10), { done: true, end: 16 });
});
