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
  /** One line for people. */
  meaning: string;
  params: Record<string, number | string>;
  /** False for bytes that match no Control opcode (show them as unknown). */
  known: boolean;
  /** Set when a known opcode travels the other way than the app's own code sends it. */
  unexpectedDirection?: boolean;
}

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

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
 * The older call form `decodeControl(bytes, { read })` is still accepted.
 */
export function decodeControl(bytes: Uint8Array, direction?: LinkDirection | { read?: boolean }, firstRead = false): ControlInfo {
  let dir: LinkDirection | undefined;
  if (typeof direction === 'object') firstRead = direction.read ?? false;
  else dir = direction;
  const b = bytes;
  if (firstRead) return { name: 'negotiation data', meaning: `Control read after connecting (negotiation data): ${hex(b)}`, params: { hex: hex(b), length: b.length }, known: true };
  const op = b[0];
  const def = op === undefined ? undefined : CONTROL_OPCODES[op];
  let info: ControlInfo | undefined;
  if (def && def.lengths.includes(b.length)) {
    if (op === 0xfa) info = { name: def.name, meaning: `${def.name}: ${hex2(b[1]!)} ${hex2(b[2]!)}`, params: { a: b[1]!, b: b[2]! }, known: true };
    else if (op === 0xf9) info = { name: def.name, meaning: `${def.name}: ${b[1]} free chunk(s)`, params: { credit: b[1]! }, known: true };
    else if (op === 0xf8) info = { name: def.name, meaning: 'clear the receive buffer', params: {}, known: true };
    else {
      // One or two code bytes; two read as a little-endian 16-bit code (as the Lua dissector shows it).
      const code = b.length === 3 ? b[1]! | (b[2]! << 8) : b[1]!;
      info = { name: def.name, meaning: `${def.name} code ${code}`, params: { code }, known: true };
    }
  }
  if (!info) return { name: 'unknown control', meaning: `unknown Control bytes ${hex(b)}`, params: { hex: hex(b) }, known: false };
  const sender = SENDER[op!];
  if (dir !== undefined && sender !== 'both' && sender !== dir) {
    info.unexpectedDirection = true;
    info.meaning += ` (unexpected: the app's code has it ${sender === 'host-to-device' ? 'app -> device' : 'device -> app'} only)`;
  }
  return info;
}
