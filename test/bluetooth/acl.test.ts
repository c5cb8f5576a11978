import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclReassembler, type AclDiagnostic } from '../../src/bluetooth/acl.js';
import { fromHex } from '../../src/util/cursor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

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
  assert.deepEqual([hex(a!.payload), a!.frames, a!.cid], ['1b2400aaaa', [1, 4], 4]);
  assert.deepEqual([hex(b!.payload), b!.frames, b!.cid], ['1b2700bbbb', [2, 3], 4]);
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
  assert.equal(hex(a!.payload), '1b2400aaaa');
});
