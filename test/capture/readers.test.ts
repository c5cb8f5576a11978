import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCapture, detectCaptureFormat, btsnoopTimeUs } from '../../src/capture/index.js';
import { HciPacketType, type HciRecord } from '../../src/capture/types.js';
import { btsnoopRecords } from '../../src/capture/btsnoop.js';
import { MAX_BATCH, memoryChunks } from '../../src/capture/source.js';
import { ReadState } from '../../src/capture/state.js';
import { writeBtsnoop, writePcap, writePcapng, hex, type HciPacket } from '../helpers/capture-writer.js';
import { atomicSession } from '../helpers/scenario.js';

const session = atomicSession();

function same(records: Awaited<ReturnType<typeof parseCapture>>['records'], packets: HciPacket[], opts: { times?: boolean; directions?: boolean } = {}) {
  assert.equal(records.length, packets.length);
  records.forEach((r, i) => {
    const p = packets[i]!;
    assert.equal(r.frame, i + 1);
    assert.equal(r.packetType, p.type, `frame ${i + 1} type`);
    assert.deepEqual(Buffer.from(r.data).toString('hex'), Buffer.from(p.data).toString('hex'), `frame ${i + 1} data`);
    if (opts.times !== false) assert.equal(r.timeUs, p.timeUs, `frame ${i + 1} time`);
    if (opts.directions !== false) assert.equal(r.direction, p.dir === 'sent' ? 'host-to-controller' : 'controller-to-host', `frame ${i + 1} direction`);
  });
}

test('btsnoop time: Wireshark epoch arithmetic, exact in doubles', () => {
  // First record of the real SmartShunt capture: timestamp bytes 00e2927e0eca5e01; tshark prints
  // frame.time_epoch 1606158848.286209. BigInt check: 0x00e2927e0eca5e01 - 0x00dcddb30f2f8000.
  assert.equal(btsnoopTimeUs(0x00e2927e, 0x0eca5e01), 1606158848286209);
  assert.equal(BigInt(btsnoopTimeUs(0x00e2927e, 0x0eca5e01)), 0x00e2927e0eca5e01n - 0x00dcddb30f2f8000n);
  assert.equal(btsnoopTimeUs(0x00dcddb3, 0x0f2f8000), 0);
});

test('format detection by content', () => {
  assert.equal(detectCaptureFormat(hex('6274736e6f6f7000')), 'btsnoop');
  assert.equal(detectCaptureFormat(hex('d4c3b2a1')), 'pcap');
  assert.equal(detectCaptureFormat(hex('a1b23c4d')), 'pcap');
  assert.equal(detectCaptureFormat(hex('0a0d0d0a')), 'pcapng');
  assert.equal(detectCaptureFormat(hex('504b0304')), undefined);
});

test('btsnoop 1002, 1001 and 2001 give the same packets', async () => {
  for (const dl of [1002, 1001, 2001] as const) {
    const r = await parseCapture(writeBtsnoop(session, dl, 3));
    assert.equal(r.info.linkType, dl);
    assert.ok(r.complete);
    same(r.records, session);
    if (dl === 2001) {
      assert.equal(r.records[0]!.adapter, 3);
      assert.equal(r.records[0]!.monitorOpcode, 2);
    }
  }
});

test('pcap: little and big endian, microsecond and nanosecond, link types 201 and 187', async () => {
  same((await parseCapture(writePcap(session))).records, session);
  same((await parseCapture(writePcap(session, { bigEndian: true }))).records, session);
  // Nanosecond file: our writer adds 123 ns to each time; microseconds stay exact.
  const ns = await parseCapture(writePcap(session, { nanoseconds: true, bigEndian: true }));
  same(ns.records, session);
  // H4 without direction: commands go down, events come up, ACL unknown.
  const h4 = await parseCapture(writePcap(session, { linkType: 187 }));
  same(h4.records, session, { directions: false });
  assert.equal(h4.records[0]!.direction, 'host-to-controller');
  assert.equal(h4.records.find((r) => r.packetType === HciPacketType.AclData)!.direction, 'unknown');
});

test('pcapng: two sections of different byte order, ns resolution, simple packet blocks', async () => {
  const r = await parseCapture(writePcapng([
    { packets: session.slice(0, 10), bigEndian: true, extraBlock: true },
    { packets: session.slice(10), tsresol: 9 },
  ]));
  assert.ok(r.complete);
  // The custom block is frame 1, as in Wireshark; the unassigned block is skipped.
  assert.equal(r.records[0]!.packetType, undefined);
  same(r.records.slice(1).map((x) => ({ ...x, frame: x.frame - 1 })), session);
  const spb = await parseCapture(writePcapng([{ packets: session, simple: true }]));
  same(spb.records, session, { times: false });
});

test('truncated final record: every complete record, then one warning with the offset', async () => {
  const whole = writeBtsnoop(session);
  const cut = whole.subarray(0, whole.length - 3);
  const warnings: string[] = [];
  const r = await parseCapture(cut, { onWarning: (w) => warnings.push(w.message) });
  assert.equal(r.records.length, session.length - 1);
  assert.equal(r.complete, false);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.code, 'truncated-file');
  const lastLen = 24 + 1 + session.at(-1)!.data.length;
  assert.equal(r.warnings[0]!.fileOffset, whole.length - lastLen);
  assert.match(warnings[0]!, new RegExp(`byte offset ${whole.length - lastLen}`));
});

test('a length pointing past the end and an absurd length', async () => {
  const b = Buffer.from(writeBtsnoop(session));
  const third = 16 + (24 + 1 + session[0]!.data.length) + (24 + 1 + session[1]!.data.length);
  const past = Buffer.from(b);
  past.writeUInt32BE(0x8000, third + 4);
  let r = await parseCapture(past);
  assert.equal(r.records.length, 2);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.fileOffset]), [['truncated-file', third]]);
  const absurd = Buffer.from(b);
  absurd.writeUInt32BE(0x7fffffff, third + 4);
  r = await parseCapture(absurd);
  assert.equal(r.records.length, 2);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.fileOffset]), [['bad-record', third]]);
  assert.equal(r.complete, false);
});

test('truncated pcap and pcapng report the offset of the cut record', async () => {
  const pcap = writePcap(session);
  let r = await parseCapture(pcap.subarray(0, pcap.length - 2));
  assert.equal(r.records.length, session.length - 1);
  assert.equal(r.warnings[0]!.code, 'truncated-file');
  assert.equal(r.warnings[0]!.fileOffset, pcap.length - (16 + 5 + session.at(-1)!.data.length));
  const png = writePcapng([{ packets: session }]);
  r = await parseCapture(png.subarray(0, png.length - 1));
  assert.equal(r.records.length, session.length - 1);
  assert.equal(r.warnings[0]!.code, 'truncated-file');
  assert.equal(r.complete, false);
});

test('wrong magic, empty input and unsupported link types are one-line errors', async () => {
  await assert.rejects(parseCapture(new Uint8Array(0)), /not a capture file: the file is empty \(0 bytes\) at byte offset 0/);
  await assert.rejects(parseCapture(hex('00112233445566778899')), /not a capture file: unrecognised first bytes 0011223344556677 at byte offset 0 \(supported: btsnoop/);
  const eth = writePcap(session);
  eth.writeUInt32LE(1, 20);
  await assert.rejects(parseCapture(eth), /unsupported pcap link type 1: not Bluetooth HCI/);
  const dl = Buffer.from(writeBtsnoop(session));
  dl.writeUInt32BE(1003, 12);
  await assert.rejects(parseCapture(dl), /unsupported btsnoop datalink 1003 \(HCI BSCP\)/);
});

test('records cut short are flagged, and an Android filtered log is recognised once', async () => {
  const filtered = session.map((p) => (p.type === 2 ? { ...p, keep: 13 } : p));
  const r = await parseCapture(writeBtsnoop(filtered));
  assert.equal(r.records.length, session.length);
  const acl = r.records.filter((x) => x.packetType === HciPacketType.AclData);
  assert.ok(acl.some((x) => x.truncated));
  assert.ok(acl.every((x) => x.data.length <= 13));
  const w = r.warnings.filter((x) => x.code === 'filtered-log');
  assert.equal(w.length, 1);
  assert.match(w[0]!.message, /filtered.*Enable Bluetooth HCI snoop log/);
  assert.ok(r.complete, 'a filtered log is whole, only its packets are cut');
});

test('btsnoop: records in batches of at most MAX_BATCH, across chunk boundaries; drops warned five times then once; a corrupt record ends reading after every record before it', async () => {
  const packets = Array.from({ length: 700 }, (_, i) => ({ ...session[i % session.length]!, timeUs: 1_600_000_000_000_000 + i }));
  const whole = writeBtsnoop(packets);
  const offsets: number[] = [];
  for (let o = 16; o < whole.length; o += 24 + whole.readUInt32BE(o + 4)) offsets.push(o);
  // Cumulative drop counts that grow at 8 records.
  for (let i = 0; i < 8; i++) for (let j = 100 * (i + 1); j < offsets.length; j++) whole.writeUInt32BE(i + 1, offsets[j]! + 12);
  const read = async (bytes: Uint8Array, chunkSize: number) => {
    const state = new ReadState(bytes.length, {});
    const batches: HciRecord[][] = [];
    for await (const b of btsnoopRecords(memoryChunks(bytes, 16, chunkSize), { version: 1, datalink: 1002 }, state)) batches.push(b);
    return { batches, state };
  };
  for (const chunkSize of [1 << 16, 1000, 37]) {
    const { batches, state } = await read(whole, chunkSize);
    assert.ok(batches.every((b) => b.length > 0 && b.length <= MAX_BATCH), `chunks of ${chunkSize}`);
    same(batches.flat(), packets);
    assert.deepEqual(state.warnings.map((w) => [w.code, w.frame]), [...[101, 201, 301, 401, 501].map((f) => ['dropped-packets', f]), ['dropped-packets', 601]]);
    assert.match(state.warnings[5]!.message, /more packet drops after frame 601/);
    if (chunkSize === 1 << 16) assert.deepEqual(batches.map((b) => b.length), [256, 256, 188]);
  }
  const corrupt = Buffer.from(whole);
  corrupt.writeUInt32BE(0x7fffffff, offsets[599]! + 4);
  const { batches, state } = await read(corrupt, 1 << 16);
  assert.deepEqual(batches.map((b) => b.length), [256, 256, 87]);
  assert.deepEqual(state.warnings.filter((w) => w.code === 'bad-record').map((w) => [w.fileOffset, w.frame]), [[offsets[599], 600]]);
  assert.equal(state.complete, false);
});
