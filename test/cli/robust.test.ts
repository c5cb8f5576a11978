/**
 * Issue 13: bad input never crashes, never loses records already decoded, never passes silently.
 * Every capture here is built by the test (capture-writer), the damage written byte by byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';
import { aclFragments, att, concatBytes, leConnectionComplete, writeBtsnoop, writePcap, writePcapng, type HciPacket } from '../helpers/capture-writer.js';
import { atomicSession } from '../helpers/scenario.js';
import { AttExtractor } from '../../src/bluetooth/index.js';
import { scanAtt } from '../../src/pipeline.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-robust-'));
const vgatt = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const file = (name: string, bytes: Uint8Array) => {
  const p = path.join(tmp, name);
  writeFileSync(p, bytes);
  return p;
};

/** A connection, a notification, then each discovery request answered by a response of only its opcode. */
function opcodeOnlyResponses(): HciPacket[] {
  let t = 1_700_000_000_000_000;
  const pk: HciPacket[] = [{ type: 4, dir: 'received', data: leConnectionComplete(0x40, 'fd:d4:50:0f:6c:1b'), timeUs: (t += 1000) }];
  const send = (pdu: Uint8Array) => aclFragments(0x40, pdu, 27, 4, 0b00).forEach((f) => pk.push({ type: 2, dir: 'sent', data: f, timeUs: (t += 1000) }));
  const recv = (pdu: Uint8Array) => aclFragments(0x40, pdu).forEach((f) => pk.push({ type: 2, dir: 'received', data: f, timeUs: (t += 1000) }));
  recv(att.notify(0x24, Uint8Array.from([0x08, 0x03, 0x19, 0xed, 0x8d, 0x42, 0x2f, 0x05])));
  send(att.findInfoReq(1, 0xffff));
  recv(Uint8Array.from([0x05]));
  send(att.readByTypeReq(1, 0xffff));
  recv(Uint8Array.from([0x09]));
  send(att.readByGroupTypeReq(1, 0xffff));
  recv(Uint8Array.from([0x11]));
  send(att.findByTypeValueReq(1, 0xffff, 0x2800, Uint8Array.from([0x00, 0x18])));
  recv(Uint8Array.from([0x07]));
  recv(att.notify(0x24, Uint8Array.from([0x08, 0x03, 0x19, 0x0f, 0xff, 0x42, 0x10, 0x27])));
  return pk;
}

test('issue 13, crash: discovery responses of only their opcode (0x05, 0x07, 0x09, 0x11) answering a pending request', () => {
  const p = file('opcode-only.btsnoop', writeBtsnoop(opcodeOnlyResponses()));
  for (const cmd of ['att', 'decode', 'gatt', 'report']) {
    const r = vgatt(cmd, p, ...(cmd === 'att' || cmd === 'decode' ? ['--format', 'ndjson'] : []));
    assert.equal(r.code, 0, `${cmd}: ${r.err}`);
    assert.doesNotMatch(r.err, /error|iterable/i, cmd);
  }
  const rows = vgatt('att', p, '--format', 'ndjson').out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((x) => x.opcode), [0x1b, 0x04, 0x05, 0x08, 0x09, 0x10, 0x11, 0x06, 0x07, 0x1b]);
  // The short responses are named malformed (they miss their format/length byte), and still answer their request.
  for (const op of [0x05, 0x09, 0x11]) {
    const row = rows.find((x) => x.opcode === op);
    assert.match(row.fields.malformed, /at offset 1/, `0x${op.toString(16)}`);
  }
  const decoded = vgatt('decode', p, '--format', 'ndjson').out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(decoded.filter((x) => x.kind === 'message').map((x) => [x.frame, x.register, x.raw]), [[2, 0xed8d, '2f05'], [11, 0x0fff, '1027']]);
});

test('issue 13, crash: an L2CAP frame of length 1 holding a response opcode', () => {
  // The same, through the extractor directly: a 1-byte ATT PDU after its request must decode.
  const ex = new AttExtractor();
  const rec = (frame: number, dir: 'host-to-controller' | 'controller-to-host', bytes: Uint8Array) => ({ frame, fileOffset: 0, timeUs: frame, packetType: 2, direction: dir, data: aclFragments(0x40, bytes)[0]!, originalLength: 0, truncated: false, adapter: 0 }) as const;
  assert.equal(ex.pushOne(rec(1, 'host-to-controller', att.readByTypeReq(1, 0xffff)))?.opcode, 0x08);
  const pdu = ex.pushOne(rec(2, 'controller-to-host', Uint8Array.from([0x09])))!;
  assert.deepEqual([pdu.opcode, pdu.fields.attributeData, pdu.fields.requestFrame], [0x09, [], 1]);
});

/** btsnoop with the timestamp field of record `index` set to raw big-endian bytes. */
function withBtsnoopTime(packets: HciPacket[], index: number, raw: bigint): Buffer {
  const b = writeBtsnoop(packets);
  let off = 16;
  for (let i = 0; i < index; i++) off += 24 + b.readUInt32BE(off + 4);
  b.writeBigUInt64BE(raw, off + 16);
  return b;
}

test('issue 13, crash: a timestamp outside the JS Date range is damage named with its offset (exit 2), every record still printed', () => {
  const pk = atomicSession();
  const files = [
    file('bad-time.btsnoop', withBtsnoopTime(pk, 5, 0x7fffffffffffffffn)),
    // pcapng: ticks of 1 us, upper word 0xffffffff: 1.8e19 us.
    (() => {
      const b = writePcapng([{ packets: pk }]);
      // The sixth Enhanced Packet Block (type 6): timestamp high word at +12.
      let at = 0;
      for (let n = 0; n < 6; at += b.readUInt32LE(at + 4)) if (b.readUInt32LE(at) === 6 && ++n === 6) break;
      b.writeUInt32LE(0xffffffff, at + 12);
      return file('bad-time.pcapng', b);
    })(),
  ];
  for (const f of files) {
    const good = vgatt('att', f.replace('bad-time', 'x'));
    assert.notEqual(good.code, 0); // (no such file: sanity of the helper)
    for (const cmd of ['att', 'decode', 'gatt', 'report']) {
      const r = vgatt(cmd, f, ...(cmd === 'att' || cmd === 'decode' ? ['--format', 'ndjson'] : []));
      assert.equal(r.code, 2, `${cmd} ${path.basename(f)}: ${r.err}`);
      assert.match(r.err, /warning: frame \d+ at byte offset \d+: timestamp -?\d+ us from 1970 is outside what a date can show/, cmd);
      assert.doesNotMatch(r.err, /RangeError|Invalid time/);
    }
    const rows = vgatt('att', f, '--format', 'ndjson').out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 47);
    assert.equal(rows.filter((x) => x.time === '').length <= 1, true);
  }
});

test('issue 13, silent oddities: a hole of zeros (zero-length records) in btsnoop and pcap is warned with its offsets, exit 2', () => {
  const pk = atomicSession();
  const snoop = writeBtsnoop(pk);
  const holeAt = 16 + 24 + snoop.readUInt32BE(16 + 4); // after the first record
  const withHole = Buffer.concat([snoop.subarray(0, holeAt), Buffer.alloc(24 * 1000), snoop.subarray(holeAt)]);
  const r = vgatt('att', file('hole.btsnoop', withHole), '--format', 'ndjson');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`warning: 1000 zero-length record\\(s\\) from byte offset ${holeAt} to ${holeAt + 24000} \\(frames 2-1001\\)`));
  assert.equal(r.out.trim().split('\n').length, 47);

  const pcap = writePcap(pk);
  const pAt = 24 + 16 + pcap.readUInt32LE(24 + 8);
  const pHole = Buffer.concat([pcap.subarray(0, pAt), Buffer.alloc(16 * 500), pcap.subarray(pAt)]);
  const q = vgatt('att', file('hole.pcap', pHole), '--format', 'ndjson');
  assert.equal(q.code, 2, q.err);
  assert.match(q.err, new RegExp(`warning: 500 zero-length record\\(s\\) from byte offset ${pAt} to ${pAt + 8000} \\(frames 2-501\\)`));
  assert.equal(q.out.trim().split('\n').length, 47);
});

test('issue 13: a record a stage cannot read is a warning with its offset, the capture damaged, the records after it kept', async () => {
  // Fault injection: the extractor throws on frame 7 (a stand-in for any bug odd bytes meet).
  const p = file('session.btsnoop', writeBtsnoop(atomicSession()));
  const orig = AttExtractor.prototype.pushOne;
  AttExtractor.prototype.pushOne = function (this: AttExtractor, rec) {
    if (rec.frame === 7) throw new TypeError('injected');
    return orig.call(this, rec);
  };
  try {
    const warnings: string[] = [];
    const scan = await scanAtt(p, { onWarning: (w) => warnings.push(w.message) });
    const frames: number[] = [];
    for await (const b of scan.batches()) for (const x of b) frames.push(x.frame);
    assert.equal(scan.reader.complete, false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^frame 7 at byte offset \d+ could not be decoded \(injected\); skipped$/);
    const offset = Number(/offset (\d+)/.exec(warnings[0]!)![1]);
    let off = 16;
    const b = writeBtsnoop(atomicSession());
    for (let i = 1; i < 7; i++) off += 24 + b.readUInt32BE(off + 4);
    assert.equal(offset, off);
    assert.ok(frames.some((f) => f > 7));
  } finally {
    AttExtractor.prototype.pushOne = orig;
  }
});

test('issue 13 (found by npm run fuzz): the report of a capture whose times are all out of range: no crash, exit 2', () => {
  // Every record of the sample session gets a time no Date can hold (high word 0x7fffffff): the status
  // change tables and time columns of the report must not throw.
  const b = Buffer.from(readFileSync(path.join(REPO, 'captures/smartshunt-orion-session.btsnoop')));
  for (let off = 16; off + 24 <= b.length; off += 24 + b.readUInt32BE(off + 4)) b.writeUInt32BE(0x7fffffff, off + 16);
  const p = file('all-bad-times.btsnoop', b);
  const html = path.join(tmp, 'all-bad-times.html');
  for (const args of [['report', p], ['report', p, '-o', html], ['decode', p, '--format', 'csv'], ['diff', p, p]]) {
    const r = vgatt(...args);
    assert.equal(r.code, args[0] === 'diff' ? 0 : 2, `${args.join(' ')}: ${r.err}`);
    assert.doesNotMatch(r.err, /RangeError|Invalid time/, args.join(' '));
  }
  assert.match(readFileSync(html, 'utf8'), /<html/i);
});
