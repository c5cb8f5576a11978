import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readItem } from '../../src/victron/cbor.js';
import { parseMessage } from '../../src/victron/message.js';
import { TransferReassembler, type StreamOutput } from '../../src/victron/stream.js';
import { decodeControl } from '../../src/victron/control.js';
import { hex } from '../helpers/capture-writer.js';

const h = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('CBOR reader: need more bytes vs malformed, with offsets', () => {
  assert.deepEqual(readItem(hex('19ed'), 0), { ok: false, needMore: true });
  assert.deepEqual(readItem(hex('42 2f'), 0), { ok: false, needMore: true });
  const bad = readItem(hex('00 1c'), 1);
  assert.equal(bad.ok, false);
  assert.match(!bad.ok && !bad.needMore ? bad.error : '', /reserved additional information 28 \(byte 0x1c at offset 1\)/);
  const r = readItem(hex('9f 00 00 01 00 ff'), 0);
  assert.ok(r.ok && r.item.major === 'array' && r.item.children.length === 4 && r.end === 6);
  const big = readItem(hex('1b ffffffffffffffff'), 0);
  assert.ok(big.ok && big.item.major === 'uint' && big.item.value === 0xffffffffffffffffn);
});

test('messages from protocol.md', () => {
  const v = parseMessage(hex('08 03 19 ed8d 42 2f05'), 0);
  assert.ok(v.ok);
  assert.deepEqual([v.message.type, v.message.instance, v.message.register, h(v.message.raw!)], [8, 3, 0xed8d, '2f05']);
  const small = parseMessage(hex('08 03 18 90 41 01'), 0);
  assert.ok(small.ok && small.message.register === 0x90);
  const dl = parseMessage(hex('02 9f 00 00 01 00 03 01 ff'), 0);
  assert.ok(dl.ok);
  assert.deepEqual(dl.message.devices, [[0, 0], [1, 0], [3, 1]]);
  const resp = parseMessage(hex('07 00 03 00'), 0);
  assert.ok(resp.ok && resp.message.instance === 0 && resp.message.answeredType === 3 && resp.message.response === 0);
  const vr = parseMessage(hex('09 00 19 010a 01'), 0);
  assert.ok(vr.ok && vr.message.register === 0x010a && vr.message.response === 1);
  const set = parseMessage(hex('06 00 82 18 93 42 1027'), 0);
  assert.ok(set.ok);
  assert.deepEqual(set.message.entries!.map((e) => [e.register, h(e.raw)]), [[0x93, '1027']]);
  const gv = parseMessage(hex('05038b19edbb19edbd19edbc19ed8d19ed8c19020119eda819edad19edaa19ed8f19ed8e'), 0);
  assert.ok(gv.ok && gv.message.registers!.length === 11 && gv.message.registers![5] === 0x0201);
  const hist = parseMessage(hex('08 03 19 1051 58 22' + '00'.repeat(34)), 0);
  assert.ok(hist.ok && hist.message.raw!.length === 34);
  const unknown = parseMessage(hex('14 00'), 0);
  assert.ok(!unknown.ok && !unknown.needMore && unknown.kind === 'unknown-opcode');
});

test('control bytes', () => {
  assert.equal(decodeControl(hex('fa80ff')).name, 'chunk size negotiation');
  assert.deepEqual(decodeControl(hex('f941')).params, { credit: 65 });
  assert.deepEqual(decodeControl(hex('f70300')).params, { code: 3 });
  assert.equal(decodeControl(hex('f8')).name, 'clear receive buffer');
  assert.equal(decodeControl(hex('00040001de4a00'), 'device-to-host', true).name, 'negotiation data');
  assert.equal(decodeControl(hex('0100')).known, false);
});

function run(pieces: [string, 'data' | 'lastData'][]): StreamOutput[] {
  const r = new TransferReassembler();
  return pieces.flatMap(([x, role], i) => r.push('k', { bytes: hex(x), frame: i + 1, timeUs: i, role }));
}

test('the protocol.md transfer: a message cut between Data and LastData has both frames', () => {
  const out = run([
    ['050381190110050381190fff0503811818050381', 'data'],
    ['19ed8d05038119ed8f05038119ed8c05038119ee', 'data'],
    ['ff05038119ed7d050381190383050381190ffe05', 'data'],
    ['038119034e05038119edec050381190300050381', 'data'],
    ['190301050381190302050381190305', 'lastData'],
  ]);
  assert.ok(out.every((r) => r.kind === 'message'));
  assert.equal(out.length, 16);
  const m = out.find((r) => r.kind === 'message' && r.body.registers?.[0] === 0x0301)!;
  assert.equal(h(m.bytes), '050381190301');
  assert.deepEqual(m.frames, [4, 5]);
  assert.equal(m.frame, 5);
  assert.deepEqual(m.ranges, [{ frame: 4, start: 17, end: 20 }, { frame: 5, start: 0, end: 3 }]);
  // 05 03 81 19 | ee ff: cut inside the CBOR head of the register.
  const eeff = out.find((r) => r.kind === 'message' && r.body.registers?.[0] === 0xeeff)!;
  assert.deepEqual(eeff.frames, [2, 3]);
});

test('padding, garbage between messages, leftovers at LastData and at disconnect', () => {
  const out = run([
    ['080319ed8d422f05 ff 0803190fff421027', 'data'],
    ['c0ffee 080319ed8e42f3ff 0803', 'lastData'],
  ]);
  assert.deepEqual(out.map((r) => r.kind), ['message', 'padding', 'message', 'unknown', 'message', 'unknown']);
  assert.equal(h(out[3]!.bytes), 'c0ffee');
  assert.equal(h(out[5]!.bytes), '0803');
  assert.match((out[5] as { reason: string }).reason, /LastData/);
  const r = new TransferReassembler();
  r.push('k', { bytes: hex('080319ed'), frame: 7, timeUs: 0, role: 'data' });
  const flushed = r.flush('k', 'disconnect');
  assert.deepEqual(flushed.map((x) => [x.kind, h(x.bytes), x.frame]), [['unknown', '080319ed', 7]]);
});

test('random bytes never crash and never swallow the valid messages after them', () => {
  // Arbitrary garbage can end like the start of a message and take the next bytes as its own: a
  // neighbour is safe when the garbage's transfer ends (LastData) or when no garbage byte is an opcode.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (raw, endsTransfer) => {
      const garbage = endsTransfer ? raw : raw.filter((b) => b < 0x01 || b > 0x10);
      const r = new TransferReassembler();
      const out = [
        ...r.push('k', { bytes: garbage, frame: 1, timeUs: 0, role: endsTransfer ? 'lastData' : 'data' }),
        ...r.push('k', { bytes: hex('ff080319ed8d422f05'), frame: 2, timeUs: 0, role: 'data' }),
        ...r.push('k', { bytes: hex('0803190fff421027'), frame: 3, timeUs: 0, role: 'lastData' }),
      ];
      assert.deepEqual(out.filter((x) => x.kind === 'message').slice(-2).map((x) => h(x.bytes)), ['080319ed8d422f05', '0803190fff421027']);
      // every byte is accounted for
      const total = out.reduce((n, x) => n + x.bytes.length, 0);
      assert.equal(total, garbage.length + 9 + 8);
    }),
    { numRuns: 1000 },
  );
});

const MESSAGES = ['080319ed8d422f05', '080319ed8c4446fcffff', '0803190fff421027', '07000300', '029f000001000301ff', '0900189301', '08031910515822' + '000100000000000000b505d004000000000028000100e90102000000010086083500', '0600821893421027', '050381190110', '01', '0303'];

test('property: any split over Data/LastData with any padding decodes to the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...MESSAGES), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 40 }),
      (msgs, pads, cuts) => {
        const stream = hex(msgs.map((m, i) => m + (pads[i] ? 'ff' : '')).join(''));
        const r = new TransferReassembler();
        const out: StreamOutput[] = [];
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          const end = Math.min(stream.length, pos + n);
          out.push(...r.push('k', { bytes: stream.subarray(pos, end), frame: i, timeUs: i, role: end === stream.length ? 'lastData' : 'data' }));
          pos = end;
        }
        assert.deepEqual(out.filter((x) => x.kind === 'message').map((x) => h(x.bytes)), msgs);
        assert.equal(out.filter((x) => x.kind === 'unknown').length, 0);
        assert.equal(out.filter((x) => x.kind === 'padding').length, msgs.filter((_, k) => pads[k]).length);
      },
    ),
    { numRuns: 400 },
  );
});

test('a value the capture cut short (Android filtered log) is unknown, and does not corrupt the next transfer', async () => {
  const { VictronDecoder } = await import('../../src/victron/index.js');
  const { profiles } = await import('../helpers/decode.js');
  const d = new VictronDecoder({ profiles });
  const pdu = (frame: number, value: string, truncated: boolean) => ({ frame, frames: [frame], timeUs: frame, connection: 0x40, device: 'aa:bb:cc:dd:ee:ff', direction: 'device-to-host' as const, opcode: 0x1b, opcodeName: 'Handle Value Notification', handle: 0x24, uuid: '306b0003-b081-4037-83dc-e59fcc3cdfd0', value: hex(value), fields: {}, truncated, raw: new Uint8Array(0) });
  const cut = d.pushAtt(pdu(1, '080319ed8d', true));
  assert.deepEqual(cut.map((r) => [r.kind, h(r.bytes)]), [['unknown', '080319ed8d']]);
  assert.match(cut[0]!.reason!, /cut short by the capture/);
  const next = d.pushAtt(pdu(2, '080319ed8d422f05', false));
  assert.deepEqual(next.map((r) => [r.kind, r.value]), [['message', 13.27]]);
});
