import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteCursor, DecodeError, fromHex, toHex } from '../src/util/cursor.js';

test('cursor reads little- and big-endian integers', () => {
  const c = new ByteCursor(fromHex('0102 0304 05060708'));
  assert.equal(c.u16le(), 0x0201);
  assert.equal(c.u16be(), 0x0304);
  assert.equal(c.u32le(), 0x08070605);
  assert.equal(c.remaining, 0);
});

test('cursor errors name the absolute offset', () => {
  const c = new ByteCursor(fromHex('0102'), 100);
  c.u8();
  assert.throws(() => c.u32le('length'), (e: unknown) => e instanceof DecodeError && e.offset === 101 && /offset 101/.test(e.message));
});

test('hex round trip is lowercase without separators', () => {
  assert.equal(toHex(fromHex('DE:AD be ef')), 'deadbeef');
});
