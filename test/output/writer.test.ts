/**
 * The byte-level writer and the NDJSON formatters built on it: every line must be exactly what
 * JSON.stringify makes of the record's JSON object (the oracle), for every record of the sample captures,
 * and the writer's pieces must match what JavaScript prints for the same values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import path from 'node:path';
import fc from 'fast-check';
import { LineWriter } from '../../src/output/writer.js';
import { attToJson, writeAttNdjson } from '../../src/output/att.js';
import { victronToJson, writeVictronNdjson } from '../../src/output/victron.js';
import type { VictronRecord } from '../../src/victron/index.js';
import { isoTimeUs, writeIsoTimeUs } from '../../src/output/time.js';
import { scanAtt, scanVictron } from '../../src/pipeline.js';
import { loadProfiles, roundTo, scaleDecimals } from '../../src/profiles/index.js';
import { REPO, SHARED_CAPTURES, capturesIn } from '../helpers/tshark.js';

/** A writer into memory; `text()` flushes and returns everything written. */
function memoryWriter(chunk?: number) {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(Buffer.from(c));
      cb();
    },
  });
  const w = new LineWriter(sink, chunk);
  return { w, text: async () => (await w.flush(), Buffer.concat(parts).toString('utf8')) };
}

const single = [...capturesIn(path.join(REPO, 'captures')), ...capturesIn(path.join(REPO, 'test/fixtures')), ...capturesIn(SHARED_CAPTURES)];
// Also a run over two captures: records then carry `file`.
const captures: (string | string[])[] = [...single, [path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'), path.join(REPO, 'captures/smartsolar-session.pcapng')]];

test('att NDJSON lines are JSON.stringify(attToJson(pdu)), for every PDU of every sample capture', async () => {
  let n = 0;
  for (const file of captures) {
    const scan = await scanAtt(file);
    const { w, text } = memoryWriter(1024); // small chunks: many buffer changes mid-record
    const want: string[] = [];
    for await (const batch of scan.batches()) {
      for (const p of batch) {
        writeAttNdjson(w, p);
        want.push(JSON.stringify(attToJson(p)));
      }
      await w.maybeFlush();
    }
    assert.equal(await text(), want.map((l) => l + '\n').join(''), String(file));
    n += want.length;
  }
  assert.ok(n > 5000, `${n} PDUs compared`);
});

test('decode NDJSON lines are JSON.stringify(victronToJson(record)), for every record of every sample capture', async () => {
  const profiles = loadProfiles();
  let n = 0;
  const kinds = new Set<string>();
  for (const file of captures) {
    const scan = await scanVictron(file, { profiles });
    const { w, text } = memoryWriter(1024);
    const want: string[] = [];
    for await (const batch of scan.batches()) {
      for (const r of batch) {
        writeVictronNdjson(w, r);
        want.push(JSON.stringify(victronToJson(r)));
        kinds.add(`${r.kind}/${r.type ?? ''}/${typeof r.value}`);
        if (r.file !== undefined) kinds.add('file');
      }
      await w.maybeFlush();
    }
    assert.equal(await text(), want.map((l) => l + '\n').join(''), String(file));
    n += want.length;
  }
  assert.ok(kinds.has('file'), 'records with a file field were compared');
  assert.ok(n > 1000, `${n} records compared`);
  // The comparison covered values of every JSON shape: numbers, strings, objects and null.
  for (const t of ['number', 'string', 'object']) assert.ok([...kinds].some((k) => k.endsWith('/' + t)), `a ${t} value was compared`);
});

test('writer pieces print what JavaScript prints: integers, numbers, hex, JSON strings, times', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 0xffffffff }),
      fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0.1, 13.27, -0, 1e21, 5e-7, NaN, Infinity)),
      fc.uint8Array({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000_000 }), fc.double(), fc.constantFrom(8.64e18, -8.64e18, 9e18, 2 ** 53 + 1, -1)),
      async (u, x, bytes, s, t) => {
        const { w, text } = memoryWriter(64);
        w.uint(u);
        w.ascii(' ');
        w.num(x);
        w.ascii(' ');
        w.numText(u);
        w.ascii(' ');
        w.hex(bytes);
        w.ascii(' ');
        w.json(s);
        w.jsonCached(s);
        w.ascii(' ');
        writeIsoTimeUs(w, t);
        w.end();
        w.add(s);
        const want = `${u} ${JSON.stringify(x)} ${u} ${Buffer.from(bytes).toString('hex')} ${JSON.stringify(s)}${JSON.stringify(s)} ${isoTimeUs(t)}\n${s}\n`;
        assert.equal(await text(), Buffer.from(want, 'utf8').toString('utf8'));
      },
    ),
    { numRuns: 300 },
  );
});

test('fixed() prints what toFixed prints, for any number and for the values the decoder rounds', async () => {
  const scales = [0.001, 0.1, 0.01, 0.000001, 0.05, 0.25, 0.0001, 0.0125, 1 / 3];
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, -0.001, -1e-7, 0.005, 2.5, -2.5, 1e21, 2 ** 31, NaN, Infinity)), fc.integer({ min: -(2 ** 32), max: 2 ** 32 }), fc.constantFrom(...scales), fc.nat({ max: 12 }), async (x, raw, scale, d) => {
      const { w, text } = memoryWriter(64);
      const dec = scaleDecimals(scale);
      const v = roundTo(raw * scale, dec);
      w.fixed(x, d);
      w.ascii(' ');
      w.fixed(v, dec);
      w.end();
      assert.equal(await text(), `${x.toFixed(d)} ${v.toFixed(dec)}\n`);
    }),
    { numRuns: 3000 },
  );
});

test('decimal() prints what String() prints, for any number and for the values the decoder rounds', async () => {
  const scales = [0.001, 0.1, 0.01, 0.000001, 0.05, 0.25, 0.0001, 0.0125, 1 / 3, 1e-9, 100];
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, -0.001, 1e-6, 9e-7, -1e-7, 0.005, 2.5, -2.5, 1e15, 1e21, 2 ** 32 + 0.5, 123456789012.345, NaN, Infinity)),
      fc.integer({ min: -(2 ** 32), max: 2 ** 32 }),
      fc.constantFrom(...scales),
      fc.nat({ max: 12 }),
      fc.integer({ min: -(10 ** 15), max: 10 ** 15 }),
      async (x, raw, scale, d, k) => {
        const { w, text } = memoryWriter(64);
        const dec = scaleDecimals(scale);
        const v = roundTo(raw * scale, dec);
        // k / 10^d: a decimal with d places, the case decimal() writes as digits.
        const exact = k / 10 ** Math.min(d, 9);
        w.decimal(x, d);
        w.ascii(' ');
        w.decimal(v, dec);
        w.ascii(' ');
        w.decimal(exact, Math.min(d, 9));
        w.end();
        assert.equal(await text(), `${String(x)} ${String(v)} ${String(exact)}\n`);
      },
    ),
    { numRuns: 5000 },
  );
});

test('output reaches the stream only on flush, in order, and a closed pipe ends it quietly', async () => {
  const got: string[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      got.push(c.toString());
      cb();
    },
  });
  const w = new LineWriter(sink, 16);
  w.add('first line, longer than the chunk');
  w.add('second');
  assert.deepEqual(got, [], 'nothing written before a flush');
  await w.maybeFlush();
  assert.equal(got.join(''), 'first line, longer than the chunk\nsecond\n');
  const err = Object.assign(new Error('pipe closed'), { code: 'EPIPE' });
  sink.emit('error', err);
  assert.equal(w.closed, true);
  w.add('after close');
  await w.maybeFlush();
  await w.flush();
  assert.equal(got.join(''), 'first line, longer than the chunk\nsecond\n');
});

test('att NDJSON with the link and head caches: interleaved links, sessions, devices, opcodes, handles, UUIDs and odd values are JSON.stringify(attToJson(pdu))', async () => {
  const pdu = fc.record({
    frame: fc.integer({ min: 1, max: 2 ** 31 }),
    frames: fc.array(fc.integer({ min: 1, max: 2 ** 31 }), { minLength: 1, maxLength: 3 }),
    // Whole microseconds, fractions of one, and times no date can show.
    timeUs: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000_000 }), fc.double({ min: -1e19, max: 1e19, noNaN: true })),
    connection: fc.oneof(fc.constantFrom(0x40, 0x41), fc.integer({ min: 0, max: 0xffff }), fc.constant(70_000)),
    session: fc.option(fc.oneof(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 2 ** 33 })), { nil: undefined }),
    device: fc.option(fc.constantFrom('fd:d4:50:0f:6c:1b', 'c0:ff:ee:12:34:56', 'caf\u00e9 "q"\\'), { nil: undefined }),
    direction: fc.constantFrom('host-to-device' as const, 'device-to-host' as const),
    opcode: fc.constantFrom(0x52, 0x1b, 0x0a, 0x0b),
    opcodeName: fc.constantFrom('Write Command', 'Handle Value Notification', 'Read Request'),
    handle: fc.option(fc.constantFrom(0x24, 0x27, 0xffff), { nil: undefined }),
    uuid: fc.option(fc.constantFrom('2a19', '306b0003-b081-4037-83dc-e59fcc3cdfd0', 'odd "uuid"'), { nil: undefined }),
    value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
    // The handle alone (most records), or any list.
    handles: fc.oneof(fc.constant('handle' as const), fc.array(fc.integer({ min: 1, max: 0xffff }), { maxLength: 2 })),
    truncated: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(pdu, { minLength: 1, maxLength: 30 }), async (list) => {
      const { w, text } = memoryWriter(64);
      const want: string[] = [];
      for (const x of list) {
        const { handles, ...rest } = x;
        const p = { ...rest, fields: { handles: handles === 'handle' ? (x.handle === undefined ? [] : [x.handle]) : handles }, bytes: new Uint8Array(0) } as unknown as Parameters<typeof writeAttNdjson>[1];
        writeAttNdjson(w, p);
        want.push(JSON.stringify(attToJson(p)));
      }
      assert.equal(await text(), want.map((l) => l + '\n').join(''));
    }),
    { numRuns: 300 },
  );
});

test('decode NDJSON with the record head cache: interleaved links, opcodes, registers, names, units, profiles, handles and odd values are JSON.stringify(victronToJson(record))', async () => {
  // Mostly what the decoder makes (so that records share cache entries), sometimes absent or odd.
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 8 });
  const rare = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: a, weight: 1 });
  const mostly = <T>(common: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: common, weight: 8 }, { arbitrary: odd, weight: 1 });
  const record = fc.record({
    kind: fc.constantFrom('message' as const, 'unknown' as const),
    frame: fc.integer({ min: 1, max: 2 ** 31 }),
    frames: fc.array(fc.integer({ min: 1, max: 2 ** 31 }), { minLength: 1, maxLength: 3 }),
    // Often one of a few frames and times: records of one frame start alike, and the writer copies that start.
    sameFrame: fc.constantFrom(undefined, { frame: 7, frames: [7] }, { frame: 8, frames: [7, 8] }, { frame: 8, frames: [6, 8] }),
    // Whole microseconds, fractions of one, and times no date can show.
    timeUs: mostly(fc.oneof(fc.constantFrom(1_600_000_000_000_000, 1_600_000_000_000_001), fc.integer({ min: 0, max: 4_102_444_800_000_000 })), fc.double({ min: -1e19, max: 1e19, noNaN: true })),
    connection: mostly(fc.constantFrom(0x40, 0x41), fc.constant(70_000)),
    session: opt(fc.constantFrom(1, 2)),
    device: opt(fc.constantFrom('fd:d4:50:0f:6c:1b', 'caf\u00e9 "q"\\')),
    direction: fc.constantFrom('host-to-device' as const, 'device-to-host' as const),
    // Opcodes whose text victronText makes from these fields, and odd numbers.
    type: opt(mostly(fc.constantFrom(5, 8, 9), fc.constantFrom(3, 31, 32, 70_000, 2.5))),
    typeName: opt(fc.constantFrom('get values', 'value', 'odd "name"')),
    instance: opt(mostly(fc.constantFrom(0, 3), fc.constantFrom(0xffff, 70_000, 1.5))),
    register: opt(mostly(fc.constantFrom(0x0100, 0xed8d), fc.constantFrom(0xffff, 70_000))),
    registerName: opt(fc.constantFrom('Battery voltage', 'odd "name"')),
    raw: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined, freq: 2 }),
    value: fc.option(fc.oneof(fc.double(), fc.integer(), fc.constantFrom('text "q"', null)), { nil: undefined, freq: 2 }),
    unit: opt(fc.constantFrom('V', '°C')),
    profile: opt(fc.constantFrom('smartshunt', 'smartsolar')),
    request: rare(fc.nat()),
    latencyMs: rare(fc.constantFrom(4, 0.5)),
    response: rare(fc.integer({ min: -1, max: 3 })),
    problem: rare(fc.constantFrom('too short')),
    bytes: fc.uint8Array({ maxLength: 12 }),
    ranges: fc.array(fc.record({ frame: fc.nat(), start: fc.nat({ max: 300 }), end: fc.nat({ max: 300 }) }), { maxLength: 2 }),
    handle: mostly(fc.constantFrom(0x24, 0x27), fc.constantFrom(0, 0xffff, 70_000)),
  }).map(({ sameFrame, ...r }) => ({ ...r, ...sameFrame }));
  // A get values: nothing between the register's name and the bytes but the unit and profile.
  const getValues = record.map((r) => ({ ...r, kind: 'message' as const, type: 5, typeName: 'get values', raw: undefined, value: undefined, request: undefined, latencyMs: undefined, response: undefined, problem: undefined }));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(record, getValues), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), async (list, second) => {
      // Two writers, written alternately as `second` says: each one's output is its own records (a record
      // crosses many of the first one's buffers; the second one's hold many records).
      const writers = [memoryWriter(64), memoryWriter(4096)];
      const want: string[][] = [[], []];
      (list as VictronRecord[]).forEach((r, i) => {
        const k = second[i] ? 1 : 0;
        writeVictronNdjson(writers[k]!.w, r);
        want[k]!.push(JSON.stringify(victronToJson(r)));
      });
      for (const k of [0, 1]) assert.equal(await writers[k]!.text(), want[k]!.map((l) => l + '\n').join(''));
    }),
    { numRuns: 500 },
  );
});

test('uint prints every digit count: each power of ten, the number below it, and 2^32 - 1', async () => {
  const values = [0, 9, ...Array.from({ length: 9 }, (_, k) => [10 ** (k + 1) - 1, 10 ** (k + 1), 10 ** (k + 1) + 1]).flat(), 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];
  const { w, text } = memoryWriter(64);
  for (const v of values) {
    w.uint(v);
    w.end();
  }
  assert.equal(await text(), values.map((v) => `${v}\n`).join(''));
});

test('decode NDJSON: records of one frame share their start up to the time, and only records with the same kind, frame, frames and time', async () => {
  const base = { kind: 'message', frame: 7, frames: [7], timeUs: 1_600_000_000_000_000, connection: 64, direction: 'host-to-device', type: 5, typeName: 'get values', instance: 3, register: 0x100, registerName: 'x', bytes: new Uint8Array([5]), ranges: [{ frame: 7, start: 0, end: 1 }], handle: 0x24 };
  // Each record is the one before with one field of its start changed, or none ({}), or a field after its start (register).
  const changes = [{}, {}, { kind: 'unknown' }, { frame: 8 }, { frames: [7, 8] }, { frames: [6, 8] }, {}, { timeUs: 1_600_000_000_000_001 }, { timeUs: 1_600_000_001_000_001 }, { register: 0x101 }, {}];
  let r = base;
  const records = changes.map((c) => (r = { ...r, ...c }) as unknown as VictronRecord);
  const { w, text } = memoryWriter(4096);
  for (const r of records) writeVictronNdjson(w, r);
  assert.equal(await text(), records.map((r) => JSON.stringify(victronToJson(r)) + '\n').join(''));
});
