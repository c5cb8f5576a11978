/**
 * fast-check generators of valid Victron messages (hex), built from the opcode tables of
 * protocol.md by hand-written CBOR heads: shared by the stream property tests and the fuzzer.
 */
import fc from 'fast-check';
import { toHex } from '../src/util/cursor.js';

export const uintHex = (n: number) => (n < 24 ? n.toString(16).padStart(2, '0') : n < 0x100 ? '18' + n.toString(16).padStart(2, '0') : '19' + n.toString(16).padStart(4, '0'));
export const bytesHex = (b: Uint8Array) => (b.length < 24 ? (0x40 + b.length).toString(16) : '58' + b.length.toString(16).padStart(2, '0')) + toHex(b);
export const arrHex = (items: string[], indefinite: boolean) => (indefinite ? '9f' + items.join('') + 'ff' : (0x80 + items.length).toString(16) + items.join(''));
const inst = fc.constantFrom(0, 1, 3, 9);
const reg = fc.oneof(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 24, max: 255 }), fc.integer({ min: 256, max: 0xffff }));

/** One valid message of any opcode the app or a device sends, as hex; 0x08 values `valueWeight` times as likely as each other kind. */
export const victronMessageOf = (valueWeight: number): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: fc.record({ i: inst, r: reg, v: fc.uint8Array({ maxLength: 40 }) }).map(({ i, r, v }) => '08' + uintHex(i) + uintHex(r) + bytesHex(v)), weight: valueWeight },
  fc.record({ i: inst, regs: fc.array(reg, { minLength: 1, maxLength: 12 }), ind: fc.boolean() }).map(({ i, regs, ind }) => '05' + uintHex(i) + arrHex(regs.map(uintHex), ind)),
  fc.record({ i: inst, r: reg, v: fc.uint8Array({ maxLength: 8 }) }).map(({ i, r, v }) => '06' + uintHex(i) + arrHex([uintHex(r), bytesHex(v)], false)),
  fc.record({ pairs: fc.array(fc.tuple(inst, fc.integer({ min: 0, max: 300 })), { maxLength: 5 }), ind: fc.boolean() }).map(({ pairs, ind }) => '02' + arrHex(pairs.flatMap(([a, b]) => [uintHex(a), uintHex(b)]), ind)),
  fc.record({ i: inst, op: fc.constantFrom(3, 4, 10), code: fc.integer({ min: 0, max: 30 }) }).map(({ i, op, code }) => '07' + uintHex(i) + uintHex(op) + uintHex(code)),
  fc.record({ i: inst, r: reg, code: fc.integer({ min: 0, max: 3 }) }).map(({ i, r, code }) => '09' + uintHex(i) + uintHex(r) + uintHex(code)),
  fc.record({ op: fc.constantFrom(3, 4, 10), i: inst }).map(({ op, i }) => uintHex(op) + uintHex(i)),
  fc.constant('01'),
);

/** The fuzzer's mix: mostly values, as in real traffic. */
export const victronMessage = victronMessageOf(4);
