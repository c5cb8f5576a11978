import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { readItem } from '../../src/victron/cbor.js';
import { isKnownOpcode, OPCODES, parseMessage, type ParseResult, type VictronMessageBody } from '../../src/victron/message.js';
import { fromHex, toHex } from '../../src/util/cursor.js';

const clean = (s: string) => s.replace(/\s/g, '');
function msg(hex: string, offset = 0): VictronMessageBody {
  const b = fromHex(hex);
  const r = parseMessage(b, offset);
  assert.ok(r.ok, `${hex}: ${JSON.stringify(r)}`);
  assert.equal(r.end, b.length, `${hex}: the whole buffer is the message`);
  return r.message;
}
function err(hex: string): Extract<ParseResult, { needMore: false }> {
  const r = parseMessage(fromHex(hex), 0);
  assert.ok(!r.ok && !r.needMore, `${hex} should be an error: ${JSON.stringify(r)}`);
  return r;
}

test('opcode table: names and parameter counts of protocol.md', () => {
  const names = Object.fromEntries(Object.entries(OPCODES).map(([k, d]) => [Number(k), [d.name, d.params]]));
  assert.deepEqual(names, {
    1: ['get devices', 0],
    2: ['device list', 1],
    3: ['subscribe', 1],
    4: ['unsubscribe', 1],
    5: ['get values', 2],
    6: ['set values', 2],
    7: ['response', 3],
    8: ['value', 3],
    9: ['value response', 3],
    10: ['get path list', 1],
    11: ['get path values', 2],
    12: ['set path values', 2],
    13: ['path list', 2],
    14: ['new path', 3],
    15: ['path value', 3],
    16: ['path value response', 3],
  });
  assert.ok(isKnownOpcode(0x01) && isKnownOpcode(0x10) && !isKnownOpcode(0x00) && !isKnownOpcode(0x11) && !isKnownOpcode(0xff) && !isKnownOpcode(undefined));
});

test('value 0x08: registers in every CBOR head size, values of every size (protocol.md examples)', () => {
  const cases: [string, number, number, string][] = [
    ['08 03 19 ed8d 42 2f05', 3, 0xed8d, '2f05'],
    ['08 03 19 ed8c 44 46fcffff', 3, 0xed8c, '46fcffff'],
    ['08 03 19 ed8e 42 f3ff', 3, 0xed8e, 'f3ff'],
    ['08 03 19 0fff 42 1027', 3, 0x0fff, '1027'],
    ['08 00 19 edbb 42 c504', 0, 0xedbb, 'c504'],
    ['08 00 19 0120 44 12070000', 0, 0x0120, '12070000'],
    ['08 01 19 0100 44 0000fefe', 1, 0x0100, '0000fefe'],
    ['08 03 18 90 41 01', 3, 0x90, '01'],
    ['08 03 05 40', 3, 5, ''],
    ['08 03 19 1051 58 22' + '00'.repeat(34), 3, 0x1051, '00'.repeat(34)],
  ];
  for (const [hex, instance, register, raw] of cases) {
    const m = msg(clean(hex));
    assert.deepEqual([m.type, m.typeName, m.instance, m.register, toHex(m.raw!), m.shapeOk, m.problems], [8, 'value', instance, register, raw, true, []], hex);
    assert.equal(m.params.length, 3);
  }
  // The parameters' offsets index the buffer.
  const b = fromHex('ff ff 08 03 19 ed8d 42 2f05'.replace(/ /g, ''));
  const r = parseMessage(b, 2);
  assert.ok(r.ok && r.end === b.length);
  assert.deepEqual(r.message.params.map((p) => [p.major, p.start, p.end, p.headLength]), [['uint', 3, 4, 1], ['uint', 4, 7, 3], ['bytes', 7, 10, 1]]);
});

test('the other protocol.md examples', () => {
  assert.deepEqual(msg('01'), { type: 1, typeName: 'get devices', params: [], shapeOk: true, problems: [] });
  const dl = msg('029f000001000301ff');
  assert.deepEqual(dl.devices, [[0, 0], [1, 0], [3, 1]]);
  assert.equal(dl.instance, undefined);
  assert.ok(dl.params[0]!.indefinite);
  assert.deepEqual(msg('02 86 000001000301'.replace(/ /g, '')).devices, [[0, 0], [1, 0], [3, 1]]);
  for (const [hex, inst] of [['0300', 0], ['0301', 1], ['0303', 3]] as const) assert.deepEqual([msg(hex).typeName, msg(hex).instance], ['subscribe', inst]);
  assert.deepEqual([msg('0403').typeName, msg('0403').instance], ['unsubscribe', 3]);
  assert.deepEqual([msg('0a03').typeName, msg('0a03').instance], ['get path list', 3]);
  const gv = msg('05 03 81 19 ed8d'.replace(/ /g, ''));
  assert.deepEqual([gv.typeName, gv.instance, gv.registers], ['get values', 3, [0xed8d]]);
  const many = msg('05038b19edbb19edbd19edbc19ed8d19ed8c19020119eda819edad19edaa19ed8f19ed8e');
  assert.equal(many.registers!.length, 11);
  assert.equal(many.registers![5], 0x0201);
  const set = msg('06 00 82 18 93 42 1027'.replace(/ /g, ''));
  assert.deepEqual([set.typeName, set.instance, set.entries!.map((e) => [e.register, toHex(e.raw)])], ['set values', 0, [[0x93, '1027']]]);
  const resp = msg('07000300');
  assert.deepEqual([resp.typeName, resp.instance, resp.answeredType, resp.response], ['response', 0, 3, 0]);
  const rej = msg('07090302');
  assert.deepEqual([rej.instance, rej.answeredType, rej.response], [9, 3, 2]);
  const vr = msg('09 00 19 010a 01'.replace(/ /g, ''));
  assert.deepEqual([vr.typeName, vr.instance, vr.register, vr.response], ['value response', 0, 0x010a, 1]);
  const ka = msg('0900189301');
  assert.deepEqual([ka.register, ka.response], [0x93, 1]);
});

test('set values: several pairs, flat or nested', () => {
  const flat = msg('06 00 84 1893 421027 190206 4101'.replace(/ /g, ''));
  assert.deepEqual(flat.entries!.map((e) => [e.register, toHex(e.raw)]), [[0x93, '1027'], [0x0206, '01']]);
  const nested = msg('06 00 82 82 1893 421027 82 190206 4100'.replace(/ /g, ''));
  assert.deepEqual(nested.entries!.map((e) => [e.register, toHex(e.raw)]), [[0x93, '1027'], [0x0206, '00']]);
  assert.ok(flat.shapeOk && nested.shapeOk);
  const bad = msg('06 00 82 1893 01'.replace(/ /g, ''));
  assert.equal(bad.shapeOk, false);
  assert.match(bad.problems.join(), /set list entry/);
});

test('path opcodes: lists, new path, values, responses, Qt-compressed path list', () => {
  const gp = msg('0b 03 83 01 02 20'.replace(/ /g, ''));
  assert.deepEqual([gp.typeName, gp.pathIndexes], ['get path values', [1, 2, -1]]);
  const sp = msg('0c 03 84 01 f5 02 63616263'.replace(/ /g, ''));
  assert.deepEqual([sp.typeName, sp.pathEntries], ['set path values', [{ index: 1, value: true }, { index: 2, value: 'abc' }]]);
  const np = msg('0e000567' + Buffer.from('/Dc/0/V').toString('hex'));
  assert.deepEqual([np.typeName, np.instance, np.pathIndex, np.text], ['new path', 0, 5, '/Dc/0/V']);
  const pv = msg('0f 00 05 fb3ff199999999999a'.replace(/ /g, ''));
  assert.deepEqual([pv.typeName, pv.pathIndex, pv.pathValue], ['path value', 5, 1.1]);
  const pvb = msg('0f 00 05 42 2f05'.replace(/ /g, ''));
  assert.equal(toHex(pvb.raw!), '2f05');
  const pr = msg('10 00 05 02'.replace(/ /g, ''));
  assert.deepEqual([pr.typeName, pr.pathIndex, pr.response], ['path value response', 5, 2]);

  const text = '/Dc/0/Voltage\n/Dc/0/Current\n/State';
  const z = deflateSync(Buffer.from(text));
  const q = Buffer.concat([Buffer.from([0, 0, 0, text.length]), z]);
  const head = q.length < 24 ? (0x40 + q.length).toString(16) : '58' + q.length.toString(16).padStart(2, '0');
  const pl = msg('0d03' + head + q.toString('hex'));
  assert.deepEqual([pl.typeName, pl.instance, pl.pathList, pl.problems, pl.shapeOk], ['path list', 3, text, [], true]);
  // Not zlib: the message stays, with its bytes and a problem.
  const broken = msg('0d03 46 00000005 0102'.replace(/ /g, ''));
  assert.equal(broken.pathList, undefined);
  assert.equal(broken.shapeOk, true);
  assert.match(broken.problems[0]!, /path list does not uncompress/);
  assert.ok(broken.params[1]!.major === 'bytes' && toHex(broken.params[1]!.value) === '000000050102');
});

test('device list: odd counts shown (a problem, not a framing error); non-integers are a shape problem', () => {
  const odd = msg('02 83 00 00 01'.replace(/ /g, ''));
  assert.deepEqual(odd.devices, [[0, 0], [1]]);
  assert.equal(odd.shapeOk, true);
  assert.match(odd.problems[0]!, /odd number of items \(3\)/);
  const oddIndef = msg('02 9f 00 00 03 ff'.replace(/ /g, ''));
  assert.deepEqual(oddIndef.devices, [[0, 0], [3]]);
  const text = msg('02 82 00 61 61'.replace(/ /g, ''));
  assert.equal(text.shapeOk, false);
});

test('shapes: a parameter of the wrong type is a problem with its bytes, or malformed when incomplete', () => {
  const v = msg('08 03 19 ed8d 05'.replace(/ /g, ''));
  assert.equal(v.shapeOk, false);
  assert.equal(v.raw, undefined);
  assert.equal(v.register, 0xed8d);
  assert.deepEqual(v.problems, ['value is not a byte string (CBOR uint, bytes 05)']);
  const t = msg('08 03 19 ed8d 63 616263'.replace(/ /g, ''));
  assert.match(t.problems[0]!, /value is not a byte string \(CBOR text, bytes 63616263\)/);
  // An incomplete item of the wrong type is not waited for.
  const e = err('08 03 19 ed8d 9f 00'.replace(/ /g, ''));
  assert.equal(e.kind, 'malformed');
  assert.equal(e.offset, 5);
  assert.match(e.error, /value is not a byte string \(byte 0x9f at offset 5\)/);
  // Out of range: register and instance must fit 16 bits.
  assert.equal(msg('08 03 1a 00010000 41 01'.replace(/ /g, '')).shapeOk, false);
  assert.equal(msg('03 1a 00010000'.replace(/ /g, '')).shapeOk, false);
  assert.equal(msg('05 03 82 19ed8d 1a00010000'.replace(/ /g, '')).shapeOk, false);
  assert.equal(msg('07 00 03 20'.replace(/ /g, '')).response, -1, 'a response code is an int');
  assert.equal(msg('07 00 03 41 00'.replace(/ /g, '')).shapeOk, false);
  assert.equal(msg('05 03 19ed8d'.replace(/ /g, '')).shapeOk, false);
});

test('errors: unknown opcode, not an opcode, malformed CBOR (with offsets)', () => {
  for (const hex of ['00', '11', '14 00', '17']) {
    const e = err(clean(hex));
    assert.equal(e.kind, 'unknown-opcode', hex);
    assert.equal(e.opcode, parseInt(hex.slice(0, 2), 16));
    assert.equal(e.offset, 0);
  }
  assert.equal(err('1805').kind, 'unknown-opcode');
  for (const hex of ['40', '9f00ff', 'ff', 'f5', '20']) assert.equal(err(hex).kind, 'not-an-opcode', hex);
  const m = err('07 00 1c'.replace(/ /g, ''));
  assert.equal(m.kind, 'malformed');
  assert.equal(m.offset, 2);
  assert.match(m.error, /reserved additional information 28/);
  const brk = err('05 03 ff'.replace(/ /g, ''));
  assert.equal(brk.kind, 'malformed');
});

const EXAMPLES = ['01', '029f000001000301ff', '0303', '050381 19ed8d', '06008218934210 27', '07000300', '080319ed8d422f05', '08031910515822' + '00'.repeat(34), '09 00 19 010a 01', '0a03', '0b03820102', '0c038201f5', '0e000563616263', '0f000542 2f05', '10000502'].map(clean);

test('every proper prefix of a message needs more bytes', () => {
  for (const hex of EXAMPLES) {
    const b = fromHex(hex);
    for (let n = 0; n < b.length; n++) {
      const r = parseMessage(b.subarray(0, n), 0);
      assert.deepEqual({ ok: r.ok, needMore: !r.ok && r.needMore }, { ok: false, needMore: true }, `${hex} cut at ${n}`);
      // `at`, when given, is a parameter's first byte, inside the cut buffer.
      if (!r.ok && r.needMore && r.at !== undefined) assert.ok(r.at >= 1 && r.at < n, `${hex} cut at ${n}: at ${r.at}`);
    }
    const r = parseMessage(b, 0);
    assert.ok(r.ok && r.end === b.length && r.message.shapeOk && r.message.problems.length === 0, hex);
  }
});

test('a value or get values cut anywhere waits in the parameter the item reader says (at: its first byte)', () => {
  const cases = ['08 03 19ed8d 42 2f05', '08 1a00010000 18 ff 58 22' + '00'.repeat(34), '08 19ffff 00 40', '05 03 81 19ed8d', '05 1a00001000 84 00 18 20 19 0100 1a0000ffff', '05 00 80'];
  for (const hex of cases.map(clean)) {
    // Behind other bytes too: offsets are the buffer's.
    const b = fromHex('0a03' + hex);
    const kinds = OPCODES[b[2]!]!.params;
    for (let n = 3; n < b.length; n++) {
      const cut = b.subarray(0, n);
      let pos = 3;
      let expected: ParseResult = { ok: false, needMore: true };
      for (let i = 0; i < kinds && pos < n; i++) {
        const it = readItem(cut, pos);
        if (!it.ok) {
          expected = { ok: false, needMore: true, at: pos };
          break;
        }
        pos = it.end;
      }
      assert.deepEqual(parseMessage(cut, 2), expected, `${hex} cut at ${n - 2}`);
    }
  }
});

test('property: parseMessage never throws on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      const r = parseMessage(bytes, 0);
      if (r.ok) assert.ok(r.end <= bytes.length && r.end > 0 && isKnownOpcode(bytes[0]));
    }),
    { numRuns: 3000 },
  );
});
