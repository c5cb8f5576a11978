import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { DEFAULT_INFLATE_CAP, inflateCapped } from '../../src/util/inflate.js';
import { parseMessage, PATH_LIST_MAX } from '../../src/victron/message.js';

test('inflateCapped: whole output when it fits, zlib and raw deflate', () => {
  const text = Buffer.from('/Settings/Alarm/Battery/LowVoltage\n'.repeat(20));
  assert.deepEqual(Buffer.from(inflateCapped(deflateSync(text)).data), text);
  assert.deepEqual(Buffer.from(inflateCapped(deflateRawSync(text), 4096, 'raw').data), text);
  assert.equal(inflateCapped(deflateSync(text)).problem, undefined);
});

test('issue 13, memory bomb: output past the cap is cut and said so, the kept bytes are the output\'s start', () => {
  // 64 MB of 'a' deflates to about 62 KB: a crafted path list of one BLE transfer's size.
  const bomb = deflateSync(Buffer.alloc(64 << 20, 0x61), { level: 9 });
  assert.ok(bomb.length < 70_000);
  const before = process.memoryUsage().rss;
  const r = inflateCapped(bomb, 1 << 16);
  assert.equal(r.problem?.kind, 'cut');
  assert.ok(r.data.length <= 1 << 16 && r.data.length > (1 << 16) - 2048, `${r.data.length} bytes kept`);
  assert.ok(r.data.every((b) => b === 0x61));
  assert.match(r.problem!.message, /^inflates to more than 65536 bytes: the first \d+ kept, the rest \(from compressed byte offset \d+\) cut$/);
  // Nothing near the 64 MB was ever held (generous bound: other tests share the process).
  assert.ok(process.memoryUsage().rss - before < 32 << 20);
  assert.equal(DEFAULT_INFLATE_CAP, 1 << 20);
});

test('inflateCapped: damaged or cut data keeps what inflated before, with the compressed offset', () => {
  const text = Buffer.from('0123456789'.repeat(500));
  const z = deflateSync(text);
  const cut = inflateCapped(z.subarray(0, z.length - 10));
  assert.equal(cut.problem?.kind, 'error');
  assert.match(cut.problem!.message, /unexpected end of file at compressed byte offset \d+; \d+ byte\(s\) inflated before it/);
  assert.deepEqual(Buffer.from(cut.data), text.subarray(0, cut.data.length));
  const bad = Buffer.from(z);
  bad[bad.length - 1]! ^= 0xff; // the Adler-32 check
  const r = inflateCapped(bad);
  assert.match(r.problem!.message, /incorrect data check/);
  assert.deepEqual(Buffer.from(r.data), text);
  assert.match(inflateCapped(Buffer.from('not zlib')).problem!.message, /^incorrect header check at compressed byte offset [01]; 0 byte\(s\) inflated before it$/);
});

test('issue 13, memory bomb: a 0x0d path list inflating to 64 MB is cut at PATH_LIST_MAX, with a problem', () => {
  const bomb = deflateSync(Buffer.alloc(64 << 20, 0x2f), { level: 9 });
  const payload = Buffer.concat([Buffer.from([0x04, 0, 0, 0]), bomb]); // header: 64 MiB
  const msg = Buffer.concat([Buffer.from([0x0d, 0x03, 0x59, payload.length >> 8, payload.length & 0xff]), payload]);
  const r = parseMessage(msg, 0);
  assert.ok(r.ok);
  assert.equal(r.end, msg.length);
  assert.ok(r.message.pathList!.length <= PATH_LIST_MAX);
  assert.ok(r.message.pathList!.length > PATH_LIST_MAX - 4096);
  assert.match(r.message.problems[0]!, /^path list does not uncompress: inflates to more than 1048576 bytes: the first \d+ kept, the rest \(from compressed byte offset \d+\) cut \(header says 67108864 bytes\)$/);
});
