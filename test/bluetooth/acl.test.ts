import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclReassembler, type AclDiagnostic, type L2capFrame } from '../../src/bluetooth/acl.js';
import { fromHex } from '../../src/util/cursor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A frame's L2CAP payload. */
const payload = (f: L2capFrame) => f.bytes.subarray(f.start, f.end);

test('two adapters using the same handle: fragments interleaved in a monitor capture are reassembled per adapter', () => {
  const acl = new AclReassembler();
  const diags: AclDiagnostic[] = [];
  const diag = (d: AclDiagnostic) => diags.push(d);
  // Handle 0x0040, PB=10 (start): ACL length 6 = L2CAP header (length 5, CID 4) + 2 of the 5 ATT bytes.
  assert.equal(acl.push(fromHex('4020 0600 0500 0400 1b24'), 'controller-to-host', 1, false, diag, 0), undefined);
  assert.equal(acl.push(fromHex('4020 0600 0500 0400 1b27'), 'controller-to-host', 2, false, diag, 1), undefined);
  // Continuations (PB=01) of each, in the other order.
  const b = acl.push(fromHex('4010 0300 00bbbb'), 'controller-to-host', 3, false, diag, 1);
  const a = acl.push(fromHex('4010 0300 00aaaa'), 'controller-to-host', 4, false, diag, 0);
  assert.deepEqual(diags, []);
  assert.deepEqual([hex(payload(a!)), a!.frames, a!.cid], ['1b2400aaaa', [1, 4], 4]);
  assert.deepEqual([hex(payload(b!)), b!.frames, b!.cid], ['1b2700bbbb', [2, 3], 4]);
});

test('a disconnection on one adapter drops only that adapter\'s partial frame', () => {
  const acl = new AclReassembler();
  const diags: AclDiagnostic[] = [];
  const diag = (d: AclDiagnostic) => diags.push(d);
  acl.push(fromHex('4020 0600 0500 0400 1b24'), 'controller-to-host', 1, false, diag, 0);
  acl.push(fromHex('4020 0600 0500 0400 1b27'), 'controller-to-host', 2, false, diag, 1);
  acl.drop(0x40, diag, 1);
  assert.deepEqual(diags.map((d) => d.code), ['lost-fragment']);
  assert.match(diags[0]!.message, /started in frame 2/);
  const a = acl.push(fromHex('4010 0300 00aaaa'), 'controller-to-host', 3, false, diag, 0);
  assert.equal(hex(payload(a!)), '1b2400aaaa');
});

test('reassembled frames keep their own bytes: many of them, long and short, none overwritten by a later one', () => {
  const acl = new AclReassembler();
  const diag = (d: AclDiagnostic) => assert.fail(d.message);
  const frames: { payload: Uint8Array; want: string }[] = [];
  for (let i = 0; i < 600; i++) {
    // Payloads of 5 to 5000 bytes (past any pooling size), filled with the frame's number.
    const len = i % 100 === 99 ? 5000 : 5 + (i % 90);
    const l2cap = Buffer.alloc(4 + len, i & 0xff);
    l2cap.writeUInt16LE(len, 0);
    l2cap.writeUInt16LE(4, 2);
    const cut = 4 + (len >> 1);
    const start = Buffer.concat([Buffer.from([0x40, 0x20, cut & 0xff, cut >> 8]), l2cap.subarray(0, cut)]);
    const restLen = l2cap.length - cut;
    const rest = Buffer.concat([Buffer.from([0x40, 0x10, restLen & 0xff, restLen >> 8]), l2cap.subarray(cut)]);
    assert.equal(acl.push(start, 'controller-to-host', 2 * i + 1, false, diag), undefined);
    const f = acl.push(rest, 'controller-to-host', 2 * i + 2, false, diag);
    assert.deepEqual(f?.frames, [2 * i + 1, 2 * i + 2]);
    frames.push({ payload: payload(f!), want: Buffer.alloc(len, i & 0xff).toString('hex') });
  }
  for (const f of frames) assert.equal(hex(f.payload), f.want);
});
