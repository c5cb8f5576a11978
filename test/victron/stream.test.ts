import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCOMPLETE_AT_LASTDATA, MAX_PENDING, TransferReassembler, type Piece, type Provenance, type StreamOutput } from '../../src/victron/stream.js';
import { fromHex, toHex } from '../../src/util/cursor.js';
import { victronMessageOf } from '../../fuzz/messages.js';

type Role = Piece['role'];
/** Pushes pieces (frame = index + 1) into one stream; every record gets the frame of the push that returned it. */
function run(pieces: [string, Role][], r = new TransferReassembler(), key = 'k'): (StreamOutput & { pushed: number })[] {
  return pieces.flatMap(([x, role], i) => r.push(key, { bytes: fromHex(x), frame: i + 1, timeUs: (i + 1) * 1000, role }).map((o) => ({ ...o, pushed: i + 1 })));
}
const kinds = (out: StreamOutput[]) => out.map((o) => o.kind);
const hexes = (out: StreamOutput[]) => out.map((o) => toHex(o.bytes));
const messages = <T extends StreamOutput>(out: T[]) => out.filter((o) => o.kind === 'message') as (T & Extract<StreamOutput, { kind: 'message' }>)[];

test('the protocol.md transfer (host to SmartShunt, 0x0027 x4 then 0x0024): 16 get-values, one across pieces 4 and 5', () => {
  const pieces: [string, Role][] = [
    ['050381190110050381190fff0503811818050381', 'data'],
    ['19ed8d05038119ed8f05038119ed8c05038119ee', 'data'],
    ['ff05038119ed7d050381190383050381190ffe05', 'data'],
    ['038119034e05038119edec050381190300050381', 'data'],
    ['190301050381190302050381190305', 'lastData'],
  ];
  const out = run(pieces);
  assert.deepEqual(kinds(out), Array(16).fill('message'));
  const regs = messages(out).map((m) => m.body.registers![0]);
  assert.deepEqual(regs, [0x0110, 0x0fff, 0x18, 0xed8d, 0xed8f, 0xed8c, 0xeeff, 0xed7d, 0x0383, 0x0ffe, 0x034e, 0xedec, 0x0300, 0x0301, 0x0302, 0x0305]);
  for (const m of messages(out)) assert.deepEqual([m.body.type, m.body.typeName, m.body.instance], [5, 'get values', 3]);

  const m0301 = messages(out).find((m) => m.body.registers![0] === 0x0301)!;
  assert.equal(toHex(m0301.bytes), '050381190301');
  assert.deepEqual(m0301.frames, [4, 5]);
  assert.deepEqual(m0301.ranges, [{ frame: 4, start: 17, end: 20 }, { frame: 5, start: 0, end: 3 }]);
  assert.equal(m0301.frame, 5);
  assert.equal(m0301.timeUs, 5000);
  // Cut inside the CBOR head of the register (19 ee | ff).
  const meeff = messages(out).find((m) => m.body.registers![0] === 0xeeff)!;
  assert.deepEqual([meeff.frames, meeff.ranges, meeff.frame, meeff.pushed], [[2, 3], [{ frame: 2, start: 15, end: 20 }, { frame: 3, start: 0, end: 1 }], 3, 3]);
  // 05 03 81 18 18 ends piece 1 exactly; 05 03 81 | 19 ed 8d spans 1 and 2.
  const m18 = messages(out).find((m) => m.body.registers![0] === 0x18)!;
  assert.deepEqual([m18.frames, m18.ranges], [[1], [{ frame: 1, start: 12, end: 17 }]]);
  const med8d = messages(out).find((m) => m.body.registers![0] === 0xed8d)!;
  assert.deepEqual([med8d.frames, med8d.ranges], [[1, 2], [{ frame: 1, start: 17, end: 20 }, { frame: 2, start: 0, end: 3 }]]);
  // Messages are emitted with the piece that completes them, not at LastData.
  assert.deepEqual(out.map((o) => o.pushed), out.map((o) => o.frame));
});

test('a message cut inside a CBOR head is emitted when its last byte arrives, on Data', () => {
  const msg = '080319ed8d422f05';
  for (let cut = 1; cut < msg.length / 2; cut++) {
    const r = new TransferReassembler();
    const first = r.push('k', { bytes: fromHex(msg.slice(0, 2 * cut)), frame: 1, timeUs: 1, role: 'data' });
    assert.deepEqual(first, [], `cut ${cut}`);
    assert.equal(r.pending('k'), cut);
    const second = r.push('k', { bytes: fromHex(msg.slice(2 * cut)), frame: 2, timeUs: 2, role: 'data' });
    assert.deepEqual(kinds(second), ['message']);
    const m = second[0] as Extract<StreamOutput, { kind: 'message' }>;
    assert.deepEqual([m.body.register, toHex(m.body.raw!), m.frames, m.frame], [0xed8d, '2f05', [1, 2], 2]);
    assert.deepEqual(m.ranges, [{ frame: 1, start: 0, end: cut }, { frame: 2, start: 0, end: 8 - cut }]);
    assert.equal(r.pending('k'), 0);
  }
});

test('padding 0xff between messages is a record of its own, the neighbours intact', () => {
  const out = run([
    ['ff 080319ed8d422f05 ffff 0803190fff421027'.replace(/ /g, ''), 'data'],
    ['ff', 'data'],
    ['0803190fff421027 ff'.replace(/ /g, ''), 'lastData'],
  ]);
  assert.deepEqual(kinds(out), ['padding', 'message', 'padding', 'message', 'padding', 'message', 'padding']);
  assert.deepEqual(hexes(out), ['ff', '080319ed8d422f05', 'ffff', '0803190fff421027', 'ff', '0803190fff421027', 'ff']);
  assert.deepEqual(out[2]!.ranges, [{ frame: 1, start: 9, end: 11 }]);
  // 0xff inside a byte string or closing an indefinite array is not padding.
  const inner = run([['08 03 19 ec31 44 d6ffffff 02 9f 00 00 ff'.replace(/ /g, ''), 'lastData']]);
  assert.deepEqual(kinds(inner), ['message', 'message']);
});

test('garbage between two valid messages: unknown, both messages intact', () => {
  const cases = ['c0ffee', '1c', '14 00', '00', '0800', '08 00 00', '05 03', '40', '9f', '5a ffffffff', 'fb 00', '1f 1f'];
  for (const g of cases.map((c) => c.replace(/ /g, ''))) {
    const out = run([['080319ed8d422f05' + g + '0803190fff421027', 'lastData']]);
    const ms = messages(out).map((m) => toHex(m.bytes));
    assert.deepEqual(ms, ['080319ed8d422f05', '0803190fff421027'], `garbage ${g}: ${kinds(out)} ${hexes(out)}`);
    assert.deepEqual(out.filter((o) => o.kind !== 'message').map((o) => toHex(o.bytes)).join(''), g, `garbage ${g}: all of it unknown (or padding)`);
    assert.equal(out[1]!.kind, 'unknown');
  }
  // Across pieces too, with a reason.
  const out = run([['080319ed8d422f05 c0ff'.replace(/ /g, ''), 'data'], ['ee 0803190fff421027'.replace(/ /g, ''), 'lastData']]);
  assert.deepEqual(kinds(out), ['message', 'unknown', 'message']);
  const u = out[1] as Extract<StreamOutput, { kind: 'unknown' }> & { pushed: number };
  assert.equal(toHex(u.bytes), 'c0ffee');
  assert.match(u.reason, /opcode/);
  assert.deepEqual(u.ranges, [{ frame: 1, start: 8, end: 10 }, { frame: 2, start: 0, end: 1 }]);
  assert.deepEqual([u.frames, u.frame], [[1, 2], 2]);
});

test('a message of the wrong shape is unknown (its reason says why); a semantic problem stays a message', () => {
  const out = run([['08 03 19 ed8d 05 0803190fff421027'.replace(/ /g, ''), 'lastData']]);
  assert.deepEqual(kinds(out), ['unknown', 'message']);
  assert.match((out[0] as { reason: string }).reason, /value: value is not a byte string/);
  assert.equal(toHex(out[0]!.bytes), '080319ed8d05');
  const odd = run([['02 83 00 00 01'.replace(/ /g, ''), 'lastData']]);
  assert.deepEqual(kinds(odd), ['message']);
  assert.deepEqual(messages(odd)[0]!.body.devices, [[0, 0], [1]]);
  assert.match(messages(odd)[0]!.body.problems[0]!, /odd/);
});

test('bytes left when LastData arrives are unknown; the buffer is cleared for the next transfer', () => {
  const r = new TransferReassembler();
  const out = run([
    ['080319ed8d422f05 0803'.replace(/ /g, ''), 'data'],
    ['19ed', 'lastData'],
    ['0803190fff421027', 'lastData'],
  ], r);
  assert.deepEqual(kinds(out), ['message', 'unknown', 'message']);
  const u = out[1] as Extract<StreamOutput, { kind: 'unknown' }> & { pushed: number };
  assert.deepEqual([toHex(u.bytes), u.reason, u.frames, u.frame, u.pushed], ['080319ed', INCOMPLETE_AT_LASTDATA, [1, 2], 2, 2]);
  assert.equal(INCOMPLETE_AT_LASTDATA, 'incomplete transfer at LastData');
  assert.equal(r.pending('k'), 0);
  assert.deepEqual(r.keys(), []);
  // A bogus long length does not swallow a complete message after it in the same transfer.
  const long = run([['05 03 9f 19ed8d 080319ed8d422f05'.replace(/ /g, ''), 'lastData']]);
  assert.deepEqual(kinds(long), ['unknown', 'message']);
  assert.deepEqual(hexes(long), ['05039f19ed8d', '080319ed8d422f05']);
});

test('flush and flushAll: pending bytes become unknown with the given reason; streams are separate', () => {
  const r = new TransferReassembler();
  assert.deepEqual(r.push('a', { bytes: fromHex('080319'), frame: 1, timeUs: 10, role: 'data' }), []);
  assert.deepEqual(r.push('b', { bytes: fromHex('0503'), frame: 2, timeUs: 20, role: 'data' }), []);
  assert.deepEqual(r.push('c', { bytes: fromHex('01'), frame: 3, timeUs: 30, role: 'data' }).map((o) => o.kind), ['message']);
  const fin = r.push('a', { bytes: fromHex('ed8d422f05'), frame: 4, timeUs: 40, role: 'lastData' });
  assert.deepEqual(hexes(fin), ['080319ed8d422f05']);
  r.push('a', { bytes: fromHex('0803'), frame: 5, timeUs: 50, role: 'data' });
  assert.deepEqual(r.keys().sort(), ['a', 'b']);
  const one = r.flush('b', 'disconnect');
  assert.deepEqual(one, [{ kind: 'unknown', reason: 'disconnect', bytes: fromHex('0503'), frames: [2], ranges: [{ frame: 2, start: 0, end: 2 }], frame: 2, timeUs: 20 }]);
  assert.deepEqual(r.flush('b', 'again'), []);
  assert.deepEqual(r.flush('nope', 'x'), []);
  const all = r.flushAll('end of capture');
  assert.deepEqual(all.map((o) => [o.key, o.kind, toHex(o.bytes), o.frame, o.kind === 'unknown' && o.reason]), [['a', 'unknown', '0803', 5, 'end of capture']]);
  assert.deepEqual(r.flushAll('x'), []);
});

test('pushTo and flushTo hand the records push and flush return to a sink, in order, through one reused provenance object; the records of a piece share its frames', () => {
  const pieces: [string, Role][] = [
    ['ff 080319ed8d422f05 c0 0803190fff421027 0503'.replace(/ /g, ''), 'data'],
    ['8119ed8d 0803'.replace(/ /g, ''), 'data'],
  ];
  const viaSink: StreamOutput[] = [];
  const seen = new Set<Provenance>();
  const copy = (at: Provenance) => {
    seen.add(at);
    return { bytes: at.bytes, frames: at.frames, ranges: at.ranges, frame: at.frame, timeUs: at.timeUs };
  };
  const sink = {
    message: (body: Extract<StreamOutput, { kind: 'message' }>['body'], at: Provenance) => viaSink.push({ kind: 'message', body, ...copy(at) }),
    padding: (at: Provenance) => viaSink.push({ kind: 'padding', ...copy(at) }),
    unknown: (reason: string, at: Provenance) => viaSink.push({ kind: 'unknown', reason, ...copy(at) }),
  };
  const a = new TransferReassembler();
  const b = new TransferReassembler();
  const viaPush: StreamOutput[] = [];
  pieces.forEach(([x, role], i) => {
    const piece = { bytes: fromHex(x), frame: i + 1, timeUs: i, role };
    a.pushTo('k', piece, sink);
    viaPush.push(...b.push('k', piece));
  });
  a.flushTo('k', 'end', sink);
  viaPush.push(...b.flush('k', 'end'));
  assert.deepEqual(kinds(viaSink), ['padding', 'message', 'unknown', 'message', 'message', 'unknown']);
  assert.deepEqual(hexes(viaSink), ['ff', '080319ed8d422f05', 'c0', '0803190fff421027', '05038119ed8d', '0803']);
  assert.deepEqual(viaSink, viaPush);
  assert.equal(seen.size, 1);
  // Records inside one piece share its frames array; a record across pieces has its own.
  assert.equal(viaSink[1]!.frames, viaSink[3]!.frames);
  assert.deepEqual([viaSink[4]!.frames, viaSink[5]!.frames], [[1, 2], [2]]);
  assert.notEqual(viaSink[4]!.frames, viaSink[5]!.frames);
});

test('memory stays bounded: a stream that grows past MAX_PENDING without a message is emitted as unknown', () => {
  const r = new TransferReassembler();
  // A value of 65536 bytes: the reader waits for its end, but the message is longer than MAX_PENDING.
  const out: StreamOutput[] = [...r.push('k', { bytes: fromHex('080319ed8d5a00010000'), frame: 1, timeUs: 0, role: 'data' })];
  const chunk = new Uint8Array(7).fill(0x01);
  let frame = 2;
  while (r.pending('k') > 0 && frame < 20000) out.push(...r.push('k', { bytes: chunk, frame: frame++, timeUs: 0, role: 'data' }));
  assert.deepEqual(kinds(out), ['unknown']);
  assert.ok(out[0]!.bytes.length > MAX_PENDING);
  assert.ok(out[0]!.kind === 'unknown' && /bytes without a complete message/.test(out[0]!.reason));
  // The stream works again afterwards.
  assert.deepEqual(kinds(r.push('k', { bytes: fromHex('080319ed8d422f05'), frame: 200, timeUs: 0, role: 'lastData' })), ['message']);
});

// ---------------------------------------------------------------------------------------------
// Property: any split of a valid message sequence over Data/LastData, with 0xff padding at any
// message boundary, yields the same messages; every byte is accounted for; provenance is exact.

const message = victronMessageOf(1);

test('property: any split over Data/LastData, with any padding at message boundaries, gives the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(message, fc.nat(2)), { minLength: 1, maxLength: 14 }),
      fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 30 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
      (msgs, cuts, lastFlags) => {
        const stream = fromHex(msgs.map(([m, pad]) => 'ff'.repeat(pad) + m).join(''));
        const r = new TransferReassembler();
        const out: (StreamOutput & { pushed: number })[] = [];
        const pieces: Uint8Array[] = [];
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i % cuts.length]!;
          const end = Math.min(stream.length, pos + n);
          // LastData may come early only at a message boundary (a real sender ends a transfer there).
          const atBoundary = msgs.reduce<number[]>((acc, [m, pad]) => [...acc, (acc.at(-1) ?? 0) + pad + m.length / 2], []).includes(end);
          const role: Role = end === stream.length || (atBoundary && lastFlags[i % lastFlags.length]) ? 'lastData' : 'data';
          const bytes = stream.subarray(pos, end);
          pieces.push(bytes);
          i++;
          out.push(...r.push('k', { bytes, frame: i, timeUs: i, role }).map((o) => ({ ...o, pushed: i })));
          pos = end;
        }
        assert.deepEqual(messages(out).map((m) => toHex(m.bytes)), msgs.map(([m]) => m));
        assert.equal(out.filter((o) => o.kind === 'unknown').length, 0);
        assert.equal(out.filter((o) => o.kind === 'padding').reduce((n, o) => n + o.bytes.length, 0), msgs.reduce((n, [, pad]) => n + pad, 0));
        assert.deepEqual(out.flatMap((o) => [...o.bytes]), [...stream], 'every byte once, in order');
        for (const o of out) {
          // Provenance: the ranges rebuild the bytes from the pieces, the last range is the record's frame, emitted at once.
          const rebuilt = o.ranges.flatMap((g) => [...pieces[g.frame - 1]!.subarray(g.start, g.end)]);
          assert.deepEqual(rebuilt, [...o.bytes]);
          assert.deepEqual(o.frames, [...new Set(o.ranges.map((g) => g.frame))]);
          assert.equal(o.frame, o.frames.at(-1));
          assert.equal(o.pushed, o.frame);
        }
        assert.deepEqual(r.keys(), []);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: garbage never crashes, every byte is accounted for, and the valid messages after it survive', () => {
  // Arbitrary garbage can end like the start of a message and take the next bytes as its own
  // (03 19 | ff 08 is a subscribe of instance 0xff08): a neighbour is safe when the garbage's
  // transfer ends (LastData), or when no garbage byte is an opcode, whatever the split.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), fc.boolean(), fc.boolean(), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 5 }), (raw, endsTransfer, pad, cuts) => {
      const garbage = endsTransfer ? raw : raw.filter((b) => b < 0x01 || b > 0x10);
      const tail = fromHex((pad ? 'ff' : '') + '080319ed8d422f05 0803190fff421027'.replace(/ /g, ''));
      const r = new TransferReassembler();
      const out: StreamOutput[] = [];
      let i = 0;
      const feed = (all: Uint8Array, last: boolean) => {
        let pos = 0;
        while (pos < all.length) {
          const end = Math.min(all.length, pos + cuts[i++ % cuts.length]!);
          out.push(...r.push('k', { bytes: all.subarray(pos, end), frame: i, timeUs: i, role: last && end === all.length ? 'lastData' : 'data' }));
          pos = end;
        }
      };
      feed(garbage, endsTransfer);
      feed(tail, true);
      assert.deepEqual(out.flatMap((o) => [...o.bytes]), [...garbage, ...tail], 'every byte once, in order');
      assert.deepEqual(messages(out).slice(-2).map((m) => toHex(m.bytes)), ['080319ed8d422f05', '0803190fff421027']);
      assert.deepEqual(r.keys(), []);
    }),
    { numRuns: 2000 },
  );
});
