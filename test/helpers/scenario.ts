/**
 * A hand-built GATT session covering the ATT layer: two LE connections interleaved (a Victron-like
 * layout on one, other handles on the other), MTU exchange, discovery, every request/response pair,
 * long writes, notifications cut into several ACL fragments with events between the fragments.
 */
import { aclFragments, att, completedPackets, command, concatBytes, disconnectionComplete, hex, leConnectionComplete, leEnhancedConnectionComplete, uuid128, type HciPacket } from './capture-writer.js';

export const DEVICE_A = 'fd:d4:50:0f:6c:1b';
export const DEVICE_B = 'c4:3a:11:22:33:44';
export const CONN_A = 0x0040;
export const CONN_B = 0x0041;
const VE = (n: number, last = 'd0') => `306b000${n}-b081-4037-83dc-e59fcc3cdf${last}`;

export function atomicSession(t0 = 1_700_000_000_000_000): HciPacket[] {
  const pk: HciPacket[] = [];
  let t = t0;
  const ev = (data: Uint8Array) => pk.push({ type: 4, dir: 'received', data, timeUs: (t += 1000) });
  const cmd = (data: Uint8Array) => pk.push({ type: 1, dir: 'sent', data, timeUs: (t += 1000) });
  const send = (conn: number, pdu: Uint8Array, frag = 27) => {
    for (const f of aclFragments(conn, pdu, frag, 4, 0b00)) pk.push({ type: 2, dir: 'sent', data: f, timeUs: (t += 1000) });
  };
  const recv = (conn: number, pdu: Uint8Array, frag = 27) => {
    for (const f of aclFragments(conn, pdu, frag)) pk.push({ type: 2, dir: 'received', data: f, timeUs: (t += 1000) });
  };

  cmd(command(0x200c, [1, 0]));
  ev(leConnectionComplete(CONN_A, DEVICE_A));
  ev(leEnhancedConnectionComplete(CONN_B, DEVICE_B));
  send(CONN_A, att.mtuReq(247));
  recv(CONN_A, att.mtuRsp(23));
  // Discovery on A: services, characteristics, descriptors.
  send(CONN_A, att.readByGroupTypeReq(1, 0xffff));
  recv(CONN_A, att.readByGroupTypeRsp([[1, 5, Uint8Array.from([0x00, 0x18])], [6, 9, Uint8Array.from([0x01, 0x18])]]));
  send(CONN_A, att.readByGroupTypeReq(10, 0xffff));
  recv(CONN_A, att.readByGroupTypeRsp([[0x1f, 0x29, uuid128(VE(1))]]));
  send(CONN_A, att.readByGroupTypeReq(0x2a, 0xffff));
  recv(CONN_A, att.error(0x10, 0x2a, 0x0a));
  send(CONN_A, att.readByTypeReq(1, 5));
  recv(CONN_A, att.readByTypeRspChars([[2, 0x02, 3, Uint8Array.from([0x00, 0x2a])], [4, 0x02, 5, Uint8Array.from([0x01, 0x2a])]]));
  send(CONN_A, att.readByTypeReq(0x1f, 0x29));
  recv(CONN_A, att.readByTypeRspChars([[0x20, 0x1a, 0x21, uuid128(VE(2))]]));
  send(CONN_A, att.readByTypeReq(0x22, 0x29));
  recv(CONN_A, att.readByTypeRspChars([[0x23, 0x1a, 0x24, uuid128(VE(3))]]));
  send(CONN_A, att.readByTypeReq(0x25, 0x29));
  recv(CONN_A, att.readByTypeRspChars([[0x26, 0x1a, 0x27, uuid128(VE(4))]]));
  send(CONN_A, att.findInfoReq(0x28, 0x29));
  recv(CONN_A, att.findInfoRsp16([[0x28, 0x2902], [0x29, 0x2901]]));
  // Connection B starts meanwhile: service search by UUID, characteristics at other handles.
  send(CONN_B, att.findByTypeValueReq(1, 0xffff, 0x2800, uuid128(VE(1, 'd1'))));
  recv(CONN_B, att.findByTypeValueRsp([[0x30, 0x3a]]));
  send(CONN_B, att.readByTypeReq(0x30, 0x3a));
  recv(CONN_B, att.readByTypeRspChars([[0x31, 0x1a, 0x32, uuid128(VE(4, 'd1'))]]));
  // Reads, blobs, read multiple, errors.
  send(CONN_A, att.readReq(3));
  recv(CONN_A, att.readRsp(hex('536d6172745368756e742048513230323334')));
  send(CONN_A, att.readBlobReq(3, 22));
  recv(CONN_A, att.readBlobRsp(hex('4e58594e')));
  send(CONN_A, att.readMultipleReq([3, 5]));
  recv(CONN_A, att.readMultipleRsp(hex('41424300')));
  send(CONN_A, att.readReq(0x21));
  recv(CONN_A, att.error(0x0a, 0x21, 0x02));
  // Enable notifications, write requests and commands.
  send(CONN_A, att.writeReq(0x28, hex('0100')));
  recv(CONN_A, att.writeRsp());
  send(CONN_A, att.writeCmd(0x21, hex('fa80ff')));
  send(CONN_B, att.writeCmd(0x32, hex('01')));
  send(CONN_A, att.signedWrite(0x24, hex('0300')));
  // A long write in two prepared pieces, then executed.
  send(CONN_A, att.prepareWriteReq(0x27, 0, hex('0102030405060708090a0b0c0d0e0f1011')));
  recv(CONN_A, att.prepareWriteRsp(0x27, 0, hex('0102030405060708090a0b0c0d0e0f1011')));
  send(CONN_A, att.prepareWriteReq(0x27, 17, hex('1213')));
  recv(CONN_A, att.prepareWriteRsp(0x27, 17, hex('1213')));
  send(CONN_A, att.executeWriteReq(1));
  recv(CONN_A, att.executeWriteRsp());
  // A 74-byte notification cut into 3 ACL fragments on A, interleaved with a notification on B
  // and events between the fragments.
  const long = att.notify(0x27, hex('08031910514822' + '01'.repeat(34) + '0803 19ed8d 42 2f05'.replace(/ /g, '') + '0803 19ed8c 44 46fcffff'.replace(/ /g, '') + 'aabbccddeeff001122334455667788'));
  const fragsA = aclFragments(CONN_A, long, 27);
  const fragsB = aclFragments(CONN_B, att.notify(0x32, hex('0800190120441207000008001902014203')), 20);
  pk.push({ type: 2, dir: 'received', data: fragsA[0]!, timeUs: (t += 1000) });
  pk.push({ type: 2, dir: 'received', data: fragsB[0]!, timeUs: (t += 1000) });
  ev(completedPackets(CONN_A));
  pk.push({ type: 2, dir: 'received', data: fragsA[1]!, timeUs: (t += 1000) });
  pk.push({ type: 2, dir: 'received', data: fragsB[1]!, timeUs: (t += 1000) });
  pk.push({ type: 2, dir: 'received', data: fragsA[2]!, timeUs: (t += 1000) });
  recv(CONN_A, att.notify(0x24, hex('0803190fff421027')));
  recv(CONN_A, att.indicate(0x24, hex('f901')));
  send(CONN_A, att.confirm());
  // An orphan continuation fragment (its start was not captured) must not crash anything.
  pk.push({ type: 2, dir: 'received', data: concatBytes([0x40, 0x10, 3, 0], [1, 2, 3]), timeUs: (t += 1000) });
  recv(CONN_B, att.notify(0x32, hex('0800 19 edbb 42 c504'.replace(/ /g, ''))));
  ev(disconnectionComplete(CONN_B));
  ev(disconnectionComplete(CONN_A));
  return pk;
}
