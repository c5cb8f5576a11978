import { BTSNOOP_MAGIC } from './btsnoop.js';
import { SHB_TYPE } from './pcapng.js';
import type { CaptureFormat } from './types.js';

/** The capture format from the file's first bytes (never from its name). */
export function detectCaptureFormat(head: Uint8Array): CaptureFormat | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 8 && b.subarray(0, 8).equals(BTSNOOP_MAGIC)) return 'btsnoop';
  if (b.length >= 4) {
    const m = b.readUInt32BE(0);
    if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
    if (m === SHB_TYPE) return 'pcapng';
  }
  return undefined;
}

/** A short description of what the first bytes look like, for the error message. */
export function describeHead(head: Uint8Array): string {
  if (head.length === 0) return 'the file is empty (0 bytes)';
  const hex = Buffer.from(head.subarray(0, 8)).toString('hex');
  if (head[0] === 0x50 && head[1] === 0x4b) return `it looks like a zip archive (first bytes ${hex}); for an Android bugreport, extract FS/data/misc/bluetooth/logs/btsnoop_hci.log first`;
  return `unrecognised first bytes ${hex}`;
}
