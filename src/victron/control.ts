/**
 * The Control characteristic (306b0002): flow control and chunk negotiation, not CBOR
 * (protocol.md, "Control characteristic"; little-endian).
 *
 * | bytes    | direction     | meaning                                                         |
 * | fa a b   | app -> device | chunk size negotiation (the app writes fa 80 ff)                 |
 * | f9 n     | both          | ready to receive / free chunk credit (f9 80, f9 41; device f9 01) |
 * | f8       | device -> app | clear the receive buffer                                        |
 * | f7 c [d] | device -> app | error, one or two code bytes                                    |
 * A read of Control right after connecting returns negotiation data (e.g. 00 04 00 01 de 4a 00).
 */
import type { LinkDirection } from '../bluetooth/types.js';
import { toHex as hex } from '../util/cursor.js';

export interface ControlInfo {
  /** Short name: 'chunk size negotiation', 'ready to receive', 'clear receive buffer', 'error', 'negotiation data', or 'unknown control'. */
  name: string;
  /** The parameters: a, b (0xfa); credit (0xf9); code (0xf7); hex and length (negotiation data); hex (unknown bytes). */
  params: Record<string, number | string>;
  /** False for bytes that match no Control opcode (show them as unknown). */
  known: boolean;
  /** Set when a known opcode travels the other way than the app's own code sends it. */
  unexpectedDirection?: boolean;
}

/** The Control opcodes and the value lengths each comes in (the Wireshark dissector is generated from this table). */
export const CONTROL_OPCODES: Readonly<Record<number, { name: string; lengths: readonly number[] }>> = {
  0xfa: { name: 'chunk size negotiation', lengths: [3] },
  0xf9: { name: 'ready to receive', lengths: [2] },
  0xf8: { name: 'clear receive buffer', lengths: [1] },
  0xf7: { name: 'error', lengths: [2, 3] },
};

/** Who sends each opcode in the app's code. */
const SENDER: Record<number, LinkDirection | 'both'> = { 0xfa: 'host-to-device', 0xf9: 'both', 0xf8: 'device-to-host', 0xf7: 'device-to-host' };

/**
 * Decodes one Control value. `direction` (when known) flags opcodes seen the other way than the
 * app sends them; `firstRead` marks a Read Response of Control (negotiation data, not an opcode).
 * The line people read is made by the formatters (`controlText` in output/).
 */
export function decodeControl(bytes: Uint8Array, direction?: LinkDirection, firstRead = false): ControlInfo {
  const b = bytes;
  if (firstRead) return { name: 'negotiation data', params: { hex: hex(b), length: b.length }, known: true };
  const op = b[0];
  const def = op === undefined ? undefined : CONTROL_OPCODES[op];
  let info: ControlInfo | undefined;
  if (def && def.lengths.includes(b.length)) {
    if (op === 0xfa) info = { name: def.name, params: { a: b[1]!, b: b[2]! }, known: true };
    else if (op === 0xf9) info = { name: def.name, params: { credit: b[1]! }, known: true };
    else if (op === 0xf8) info = { name: def.name, params: {}, known: true };
    // One or two code bytes; two read as a little-endian 16-bit code (as the Lua dissector shows it).
    else info = { name: def.name, params: { code: b.length === 3 ? b[1]! | (b[2]! << 8) : b[1]! }, known: true };
  }
  if (!info) return { name: 'unknown control', params: { hex: hex(b) }, known: false };
  const sender = SENDER[op!];
  if (direction !== undefined && sender !== 'both' && sender !== direction) info.unexpectedDirection = true;
  return info;
}
