import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/util/cursor.js';
import { fullParseCount, SCAN_FROM, TransferReassembler } from '../../src/victron/stream.js';
import { victronMessage } from '../../fuzz/messages.js';
import { checkNeighbours, type Span } from '../../fuzz/neighbours.js';

/** A stream of messages with optional padding before each; the spans of the messages. */
function build(msgs: [string, number][]): { stream: Uint8Array; spans: Span[] } {
  let hex = '';
  const spans: Span[] = [];
  for (const [m, pad] of msgs) {
    hex += 'ff'.repeat(pad);
    spans.push({ start: hex.length / 2, end: hex.length / 2 + m.length / 2 });
    hex += m;
  }
  return { stream: fromHex(hex), spans };
}

test('property: one damaged byte in a multi-message, multi-piece stream costs no message outside the damaged one, invents none', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(victronMessage, fc.nat(1)), { minLength: 3, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (msgs, cuts, where, value) => {
        const { stream, spans } = build(msgs);
        const at = where % stream.length;
        if (stream[at] === value) return;
        const c = checkNeighbours(stream, spans, at, value, cuts);
        assert.equal(c.bytesMismatch, false, 'every byte once, in order');
        assert.deepEqual(c.lost, [], 'lost neighbours');
        assert.deepEqual(c.invented, [], 'invented messages');
      },
    ),
    { numRuns: 3000 },
  );
});

type Out = { kind: string; bytes: Uint8Array };
const push = (pieces: string[], roles?: ('data' | 'lastData')[]) => {
  const r = new TransferReassembler();
  const out: string[] = [];
  pieces.forEach((p, i) => {
    for (const o of r.push('k', { bytes: fromHex(p.replace(/ /g, '')), frame: i + 1, timeUs: i, role: roles?.[i] ?? (i === pieces.length - 1 ? 'lastData' : 'data') }) as Out[]) out.push(`${o.kind} ${toHex(o.bytes)}`);
  });
  return out;
};

test('issue 13, lost neighbours (1): a malformed message met while waiting to resynchronise does not take the valid messages before it', () => {
  // c0 is garbage; the candidate after it (a get values, then a value cut after 08 03) must wait for
  // frame 2, where that value turns out malformed (05 is not a byte string). The get values lies
  // wholly in frame 1, untouched: it survives, and the damage of frame 2 is an unknown of its own.
  const out = push(['c0 050381190110 0803', '19ed8d05 0803190fff421027']);
  assert.deepEqual(out, ['unknown c0', 'message 050381190110', 'unknown 080319ed8d05', 'message 0803190fff421027']);
});

test('issue 13, lost neighbours (2): bytes after a run that does not frame are resynchronised, never parsed from their first byte', () => {
  // Frame 1 holds only bytes that do not frame (087d: a reserved CBOR head). Parsed fresh, frame 2
  // would give two invented messages (0a 14, 0a 05) and swallow the get values' opcode.
  const out = push(['087d', '0a140a 050381190110 0803190fff421027']);
  assert.deepEqual(out, ['unknown 087d0a140a', 'message 050381190110', 'message 0803190fff421027']);
  // The run stays one record, however many pieces it spans.
  assert.deepEqual(push(['c0', 'c1', 'c2', '050381190110']), ['unknown c0c1c2', 'message 050381190110']);
});

test('a message cut by piece ends is parsed again while it is short, then scanned on: one byte per piece, parses stay below SCAN_FROM', () => {
  // A value of 200 bytes (08 03 19 ed8d 58 c8 ...), one byte per piece.
  const msg = fromHex('080319ed8d58c8' + 'ab'.repeat(200));
  const r = new TransferReassembler();
  const before = fullParseCount();
  const out: Out[] = [];
  msg.forEach((b, i) => out.push(...(r.push('k', { bytes: Uint8Array.of(b), frame: i + 1, timeUs: i, role: 'data' }) as Out[])));
  const parses = fullParseCount() - before;
  assert.ok(parses >= SCAN_FROM - 7 && parses <= SCAN_FROM + 2, `${parses} full parses for ${msg.length} pieces`);
  assert.deepEqual(out.map((o) => `${o.kind} ${toHex(o.bytes)}`), [`message ${toHex(msg)}`]);
});

test('issue 13, quadratic time: an item that grows piece by piece is scanned on, not re-parsed from its start', () => {
  // A path list (0d) whose indefinite byte string arrives in 3,300 pieces of 20 bytes (ten 2-byte
  // chunks each) and never ends: the wait is decided by the resumed item scan, so the number of
  // messages parsed from their first byte does not grow with the pieces (before: one full re-parse
  // per piece, 3.4 s here for these 66 KB; now 47 ms).
  const r = new TransferReassembler();
  const before = fullParseCount();
  const out: Out[] = [...(r.push('k', { bytes: fromHex('0d005f'), frame: 1, timeUs: 0, role: 'data' }) as Out[])];
  const piece = fromHex('4161'.repeat(10));
  for (let i = 0; i < 3300; i++) out.push(...(r.push('k', { bytes: piece, frame: i + 2, timeUs: 0, role: 'data' }) as Out[]));
  const parses = fullParseCount() - before;
  assert.ok(parses < 20, `${parses} full parses for 3,300 pieces`);
  // The string outgrows what any message holds (MAX_LENGTH): unknown, every byte accounted for.
  assert.ok(out.length >= 1 && out.every((o) => o.kind === 'unknown'));
  assert.equal(out.reduce((n, o) => n + o.bytes.length, 0) + r.pending('k'), 3 + 3300 * 20);
});
