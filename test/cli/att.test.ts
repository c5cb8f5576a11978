import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';
import { writeBtsnoop } from '../helpers/capture-writer.js';
import { atomicSession } from '../helpers/scenario.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-cli-'));

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('att --format ndjson: the public fields', () => {
  const r = vgatt('att', path.join(REPO, 'test/fixtures/att-session.btsnoop'), '--format', 'ndjson');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 47);
  const n = rows.find((x) => x.frame === 51);
  assert.deepEqual(
    { frame: n.frame, time: n.time, connection: n.connection, device: n.device, direction: n.direction, opcode: n.opcode, opcodeName: n.opcodeName, handle: n.handle, uuid: n.uuid, value: n.value },
    { frame: 51, time: '2023-11-14T22:13:20.051000Z', connection: 64, device: 'fd:d4:50:0f:6c:1b', direction: 'device-to-host', opcode: 27, opcodeName: 'Handle Value Notification', handle: 36, uuid: '306b0003-b081-4037-83dc-e59fcc3cdfd0', value: '0803190fff421027' },
  );
});

test('att --format csv has a header and one row per PDU', () => {
  const r = vgatt('att', path.join(REPO, 'test/fixtures/att-session.editcap.pcapng'), '--format', 'csv');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], 'frame,time,connection,device,direction,opcode,opcodeName,handle,uuid,value,truncated,session');
  assert.equal(lines.length, 48);
});

test('a truncated capture prints every complete PDU, warns with the offset, exits 2', () => {
  const whole = writeBtsnoop(atomicSession());
  const f = path.join(tmp, 'cut.btsnoop');
  writeFileSync(f, whole.subarray(0, whole.length - 20));
  const r = vgatt('att', f, '--format', 'ndjson');
  assert.equal(r.code, 2);
  // The last record (a disconnection event) is cut: every ATT PDU is still there.
  assert.equal(r.out.trim().split("\n").length, 47);
  assert.match(r.err, /^vgatt: warning: capture ends inside a record at byte offset \d+ \(frame 57\)/m);
  assert.doesNotMatch(r.err, /at .*\.ts:\d+/, 'no stack trace');
});

test('bad files: one line on stderr, exit 1', () => {
  const empty = path.join(tmp, 'empty.log');
  writeFileSync(empty, '');
  for (const [file, msg] of [
    [empty, /not a capture file: the file is empty/],
    [path.join(tmp, 'missing.btsnoop'), /cannot read: no such file/],
    [path.join(REPO, 'package.json'), /not a capture file: unrecognised first bytes/],
  ] as const) {
    const r = vgatt('att', file);
    assert.equal(r.code, 1, file);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, msg);
  }
});

test('gatt prints the learned database per connection', () => {
  const r = vgatt('gatt', path.join(REPO, 'test/fixtures/att-session.btsnoop'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Connection 0x0040 \(fd:d4:50:0f:6c:1b\)/);
  assert.match(r.out, /Characteristic 306b0004-b081-4037-83dc-e59fcc3cdfd0 {2}declaration 0x0026 {2}value 0x0027 {2}\[read, write, notify\]/);
  assert.match(r.out, /Descriptor 2902 {2}handle 0x0028/);
  const j = JSON.parse(vgatt('gatt', path.join(REPO, 'test/fixtures/att-session.btsnoop'), '--format', 'json').out);
  assert.equal(j.length, 2);
});
