import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cborToJs, mapEntries, MAX_DEPTH, MAX_ITEMS, readItem, type CborItem } from '../../src/victron/cbor.js';
import { fromHex, toHex } from '../../src/util/cursor.js';

const show = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
const ok = (hex: string, offset = 0): CborItem => {
  const r = readItem(fromHex(hex), offset);
  assert.ok(r.ok, `${hex}: ${show(r)}`);
  assert.equal(r.end, r.item.end);
  return r.item;
};
const malformed = (hex: string, offset = 0) => {
  const r = readItem(fromHex(hex), offset);
  assert.ok(!r.ok && !r.needMore, `${hex} should be malformed: ${show(r)}`);
  return r;
};
const needMore = (hex: string, offset = 0) => assert.deepEqual(readItem(fromHex(hex), offset), { ok: false, needMore: true }, hex);

test('unsigned and negative integers of every head size; 64-bit as number when safe, else bigint', () => {
  const cases: [string, number | bigint, number][] = [
    ['00', 0, 1],
    ['17', 23, 1],
    ['1818', 24, 2],
    ['1893', 0x93, 2],
    ['19ed8d', 0xed8d, 3],
    ['1a00010000', 0x10000, 5],
    ['1b001fffffffffffff', Number.MAX_SAFE_INTEGER, 9],
    ['1b0020000000000000', 2n ** 53n, 9],
    ['1bffffffffffffffff', 2n ** 64n - 1n, 9],
  ];
  for (const [hex, value, head] of cases) {
    const it = ok(hex);
    assert.equal(it.major, 'uint', hex);
    assert.equal(it.major === 'uint' && it.value, value, hex);
    assert.deepEqual([it.start, it.end, it.headLength, it.indefinite], [0, head, head, false], hex);
  }
  const n = ok('20');
  assert.ok(n.major === 'nint' && n.value === -1);
  const n2 = ok('3903e7');
  assert.ok(n2.major === 'nint' && n2.value === -1000);
  const n3 = ok('3bffffffffffffffff');
  assert.ok(n3.major === 'nint' && n3.value === -(2n ** 64n));
});

test('byte and text strings, definite and indefinite (chunks)', () => {
  const b = ok('422f05');
  assert.ok(b.major === 'bytes' && toHex(b.value) === '2f05');
  assert.deepEqual([b.headLength, b.end, b.indefinite], [1, 3, false]);
  const long = ok('5822' + '11'.repeat(34));
  assert.ok(long.major === 'bytes' && long.value.length === 34 && long.headLength === 2 && long.end === 36);
  const t = ok('63616263');
  assert.ok(t.major === 'text' && t.value === 'abc');
  const ib = ok('5f42010241 03 40 ff'.replace(/ /g, ''));
  assert.ok(ib.major === 'bytes' && toHex(ib.value) === '010203' && ib.indefinite && ib.end === 8 && ib.headLength === 1);
  const it = ok('7f616161 62ff'.replace(/ /g, ''));
  assert.ok(it.major === 'text' && it.value === 'ab' && it.indefinite);
  // A chunk of the other type, or an indefinite chunk, is malformed (RFC 8949 3.2.3).
  assert.match(malformed('5f6161ff').error, /chunk that is not a definite byte string \(byte 0x61 at offset 1\)/);
  assert.match(malformed('5f5f4101ffff').error, /chunk/);
  needMore('5f4201');
  needMore('5f420102');
  needMore('7f6161');
});

test('arrays and maps, definite and indefinite, with children and offsets', () => {
  const a = ok('9f00000100 0301ff'.replace(/ /g, ''));
  assert.ok(a.major === 'array' && a.indefinite && a.end === 8);
  assert.deepEqual(a.major === 'array' && a.children.map((c) => [c.major, c.start, c.end]), [['uint', 1, 2], ['uint', 2, 3], ['uint', 3, 4], ['uint', 4, 5], ['uint', 5, 6], ['uint', 6, 7]]);
  const d = ok('8119ed8d');
  assert.ok(d.major === 'array' && !d.indefinite && d.headLength === 1 && d.children.length === 1);
  const nested = ok('82821893421027 80'.replace(/ /g, ''));
  assert.deepEqual(cborToJs(nested), [[0x93, '1027'], []]);
  const m = ok('a2 01 02 63616263 f5'.replace(/ /g, ''));
  assert.ok(m.major === 'map' && m.children.length === 4);
  assert.deepEqual(m.major === 'map' && mapEntries(m).map(([k, v]) => [cborToJs(k), cborToJs(v)]), [[1, 2], ['abc', true]]);
  const im = ok('bf0102ff');
  assert.ok(im.major === 'map' && im.indefinite && im.children.length === 2);
  assert.match(malformed('bf01ff').error, /key without its value/);
  needMore('9f0000');
  needMore('83 01 02'.replace(/ /g, ''));
  needMore('a1 01'.replace(/ /g, ''));
});

test('floats, simple values, tags', () => {
  const cases: [string, unknown][] = [['f93c00', 1], ['f9c400', -4], ['f97c00', Infinity], ['fa47c35000', 100000], ['fb3ff199999999999a', 1.1], ['f4', false], ['f5', true], ['f6', null], ['f7', undefined], ['f820', 32], ['e0', 0]];
  for (const [hex, value] of cases) {
    const it = ok(hex);
    assert.ok(it.major === 'float' || it.major === 'simple', hex);
    assert.equal((it as { value: unknown }).value, value, hex);
    assert.equal(it.end, hex.length / 2, hex);
  }
  assert.ok(Number.isNaN((ok('f97e00') as { value: number }).value));
  const tag = ok('c11a514b67b0');
  assert.ok(tag.major === 'tag' && tag.tag === 1 && tag.value.major === 'uint' && tag.end === 6 && tag.headLength === 1);
  assert.match(malformed('f810').error, /simple value 16 in two bytes/);
  needMore('f93c');
  needMore('fb3ff1');
  needMore('c1');
});

test('malformed: reserved additional information 28-30, a lone break, indefinite where not allowed', () => {
  for (const major of [0, 1, 2, 3, 4, 5, 6, 7]) {
    for (const ai of [28, 29, 30]) {
      const b = (major << 5) | ai;
      const r = malformed('00' + b.toString(16).padStart(2, '0'), 1);
      assert.equal(r.offset, 1);
      assert.match(r.error, new RegExp(`reserved additional information ${ai} \\(byte 0x${b.toString(16)} at offset 1\\)`));
    }
  }
  const brk = malformed('ff');
  assert.equal(brk.offset, 0);
  assert.match(brk.error, /break \(0xff\) outside/);
  for (const b of ['1f', '3f', 'df']) assert.match(malformed(b).error, /indefinite length is not allowed/);
  // Inside an item, the offset points at the offending byte.
  const inner = malformed('83 01 1c 02'.replace(/ /g, ''));
  assert.equal(inner.offset, 2);
});

test('garbage limits: nesting depth and absurd lengths are malformed, not waited for', () => {
  const deep = malformed('81'.repeat(MAX_DEPTH + 5) + '00');
  assert.match(deep.error, /nesting deeper than 32/);
  // Without its end in the buffer too: no waiting on garbage nesting.
  assert.match(malformed('9f'.repeat(MAX_DEPTH + 5)).error, /nesting/);
  ok('81'.repeat(MAX_DEPTH) + '00');
  assert.match(malformed('5bffffffffffffffff').error, /longer than any message/);
  assert.match(malformed('5a00010001').error, /longer than any message/);
  assert.match(malformed('9b0000000100000000').error, /longer than any message/);
  needMore('5a0000ffff');
  // Arrays and maps: at most MAX_ITEMS items.
  assert.match(malformed('99' + (MAX_ITEMS + 1).toString(16).padStart(4, '0')).error, /array of 2049 items is longer than any message/);
  assert.match(malformed('b9' + (MAX_ITEMS + 1).toString(16).padStart(4, '0')).error, /map of 2049 items/);
  needMore('99' + MAX_ITEMS.toString(16).padStart(4, '0'));
  ok('99' + MAX_ITEMS.toString(16).padStart(4, '0') + '00'.repeat(MAX_ITEMS));
  assert.match(malformed('9f' + '00'.repeat(MAX_ITEMS + 1)).error, /indefinite array is longer than any message/);
  // A deep garbage buffer does not blow the stack.
  const r = readItem(new Uint8Array(100_000).fill(0x9f), 0);
  assert.ok(!r.ok && !r.needMore);
});

test('reading at an offset gives absolute offsets', () => {
  const it = ok('ffff 08 03 19ed8d 422f05'.replace(/ /g, ''), 7);
  assert.ok(it.major === 'bytes' && it.start === 7 && it.end === 10 && toHex(it.value) === '2f05');
  const r = readItem(fromHex('0000'), 2);
  assert.deepEqual(r, { ok: false, needMore: true });
});

const ITEMS = ['00', '19ed8d', '1bffffffffffffffff', '3903e7', '422f05', '5822' + 'ab'.repeat(34), '63616263', '5f42010241 03ff', '7f6161ff', '9f000001000301ff', '8282189342102780', 'a201026361626 3f5', 'bf0102ff', 'f93c00', 'fb3ff199999999999a', 'f820', 'c11a514b67b0'].map((x) => x.replace(/ /g, ''));

test('property: every proper prefix of a valid item needs more; the whole item reads to its end', () => {
  for (const hex of ITEMS) {
    const b = fromHex(hex);
    for (let n = 0; n < b.length; n++) assert.deepEqual(readItem(b.subarray(0, n), 0), { ok: false, needMore: true }, `${hex} cut at ${n}`);
    const r = readItem(b, 0);
    assert.ok(r.ok && r.end === b.length, hex);
  }
});

test('property: random bytes never throw, and results are consistent', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(70), (bytes, off) => {
      const r = readItem(bytes, off);
      if (r.ok) {
        assert.ok(r.end > off && r.end <= bytes.length);
        // The same item reads the same from a buffer cut just after it.
        const again = readItem(bytes.subarray(0, r.end), off);
        assert.ok(again.ok && again.end === r.end);
      } else if (!r.needMore) assert.ok(r.offset >= off && r.offset <= bytes.length, JSON.stringify(r));
      else {
        // needMore is honest: the buffer does not hold the whole item, so no prefix is complete.
        for (let n = off; n <= bytes.length; n++) {
          const p = readItem(bytes.subarray(0, n), off);
          assert.ok(!p.ok);
        }
      }
    }),
    { numRuns: 2000 },
  );
});
