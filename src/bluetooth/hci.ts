/**
 * HCI events that tell who a connection handle belongs to (Core spec Vol 4, Part E, 7.7):
 * Connection Complete (0x03), Disconnection Complete (0x05), LE Connection Complete (0x3e/0x01),
 * LE Enhanced Connection Complete (0x3e/0x0a, v2 0x3e/0x29); and Encryption Change (0x08, v2 0x59).
 */
import { formatAddress } from './uuid.js';

export type HciConnectionEvent =
  | { kind: 'connect'; connection: number; device: string; addressType: 'public' | 'random' | 'unknown'; role: 'central' | 'peripheral' }
  | { kind: 'disconnect'; connection: number; reason: number }
  | { kind: 'encryption'; connection: number; enabled: boolean };

const ADDRESS_TYPES = ['public', 'random', 'public', 'random'] as const;

/** `data` starts at the event code. Returns undefined for other events and failed (status != 0) ones. */
export function parseConnectionEvent(data: Uint8Array): HciConnectionEvent | undefined {
  if (data.length < 2) return undefined;
  const code = data[0]!;
  const p = data.subarray(2, 2 + data[1]!);
  const u16 = (o: number) => p[o]! | (p[o + 1]! << 8);
  if (code === 0x03 && p.length >= 9) {
    if (p[0] !== 0) return undefined;
    return { kind: 'connect', connection: u16(1) & 0x0fff, device: formatAddress(p.subarray(3, 9)), addressType: 'public', role: 'central' };
  }
  if (code === 0x05 && p.length >= 4) {
    if (p[0] !== 0) return undefined;
    return { kind: 'disconnect', connection: u16(1) & 0x0fff, reason: p[3]! };
  }
  // Encryption Change (v1 0x08, v2 0x59): the link is encrypted; HCI still carries plaintext.
  if ((code === 0x08 || code === 0x59) && p.length >= 4) {
    if (p[0] !== 0) return undefined;
    return { kind: 'encryption', connection: u16(1) & 0x0fff, enabled: p[3] !== 0 };
  }
  if (code === 0x3e && p.length >= 1) {
    const sub = p[0]!;
    if ((sub === 0x01 || sub === 0x0a || sub === 0x29) && p.length >= 12) {
      if (p[1] !== 0) return undefined;
      return {
        kind: 'connect',
        connection: u16(2) & 0x0fff,
        role: p[4] === 1 ? 'peripheral' : 'central',
        addressType: ADDRESS_TYPES[p[5]!] ?? 'unknown',
        device: formatAddress(p.subarray(6, 12)),
      };
    }
  }
  return undefined;
}
