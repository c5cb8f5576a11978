/**
 * ATT PDUs (Core spec Vol 3 Part F 3.4). `decodeAttPdu` reads one PDU's own fields; the extractor
 * adds what needs state (the handle a response answers, the UUID of a handle, long writes).
 */
import { ByteCursor, DecodeError, toHex } from '../util/cursor.js';
import { uuidFromLe } from './uuid.js';

export const ATT_OPCODE_NAMES: Record<number, string> = {
  0x01: 'Error Response',
  0x02: 'Exchange MTU Request',
  0x03: 'Exchange MTU Response',
  0x04: 'Find Information Request',
  0x05: 'Find Information Response',
  0x06: 'Find By Type Value Request',
  0x07: 'Find By Type Value Response',
  0x08: 'Read By Type Request',
  0x09: 'Read By Type Response',
  0x0a: 'Read Request',
  0x0b: 'Read Response',
  0x0c: 'Read Blob Request',
  0x0d: 'Read Blob Response',
  0x0e: 'Read Multiple Request',
  0x0f: 'Read Multiple Response',
  0x10: 'Read By Group Type Request',
  0x11: 'Read By Group Type Response',
  0x12: 'Write Request',
  0x13: 'Write Response',
  0x16: 'Prepare Write Request',
  0x17: 'Prepare Write Response',
  0x18: 'Execute Write Request',
  0x19: 'Execute Write Response',
  0x1b: 'Handle Value Notification',
  0x1d: 'Handle Value Indication',
  0x1e: 'Handle Value Confirmation',
  0x20: 'Read Multiple Variable Request',
  0x21: 'Read Multiple Variable Response',
  0x23: 'Multiple Handle Value Notification',
  0x52: 'Write Command',
  0xd2: 'Signed Write Command',
};

export const ATT_ERROR_NAMES: Record<number, string> = {
  0x01: 'Invalid Handle',
  0x02: 'Read Not Permitted',
  0x03: 'Write Not Permitted',
  0x04: 'Invalid PDU',
  0x05: 'Insufficient Authentication',
  0x06: 'Request Not Supported',
  0x07: 'Invalid Offset',
  0x08: 'Insufficient Authorization',
  0x09: 'Prepare Queue Full',
  0x0a: 'Attribute Not Found',
  0x0b: 'Attribute Not Long',
  0x0c: 'Insufficient Encryption Key Size',
  0x0d: 'Invalid Attribute Value Length',
  0x0e: 'Unlikely Error',
  0x0f: 'Insufficient Encryption',
  0x10: 'Unsupported Group Type',
  0x11: 'Insufficient Resources',
  0x12: 'Database Out Of Sync',
  0x13: 'Value Not Allowed',
};

export const CHARACTERISTIC_PROPERTY_NAMES = ['broadcast', 'read', 'write-without-response', 'write', 'notify', 'indicate', 'authenticated-signed-writes', 'extended-properties'];

export function propertyNames(p: number): string[] {
  return CHARACTERISTIC_PROPERTY_NAMES.filter((_, i) => p & (1 << i));
}

/** Requests whose response has no handle of its own: the extractor copies the request's handle. */
export const RESPONSE_OF: Record<number, number> = {
  0x03: 0x02,
  0x05: 0x04,
  0x07: 0x06,
  0x09: 0x08,
  0x0b: 0x0a,
  0x0d: 0x0c,
  0x0f: 0x0e,
  0x11: 0x10,
  0x13: 0x12,
  0x17: 0x16,
  0x19: 0x18,
  0x21: 0x20,
  0x1e: 0x1d,
};

export function attOpcodeName(op: number): string {
  return ATT_OPCODE_NAMES[op] ?? `Unknown opcode 0x${op.toString(16).padStart(2, '0')}`;
}

export interface DecodedAtt {
  opcode: number;
  handle?: number;
  value?: Uint8Array;
  /** btatt.handle occurrences Wireshark shows for this PDU, in order. */
  handles: number[];
  fields: Record<string, unknown>;
  /** Problem reading the PDU (too short, bad format); fields decoded before it are kept. */
  problem?: string;
}

/** The list field of the opcodes that carry one. */
const LIST_FIELDS: Record<number, string> = { 0x05: 'information', 0x07: 'handlesInformation', 0x09: 'attributeData', 0x0e: 'setOfHandles', 0x11: 'attributeData', 0x20: 'setOfHandles', 0x23: 'values' };

/** Decodes one ATT PDU's own fields. Never throws: a short PDU gives `problem`. */
export function decodeAttPdu(pdu: Uint8Array): DecodedAtt {
  const op0 = pdu[0];
  if ((op0 === 0x1b || op0 === 0x52 || op0 === 0x12 || op0 === 0x1d) && pdu.length >= 3) {
    // Fast path for the bulk of a capture: notifications and writes.
    const handle = pdu[1]! | (pdu[2]! << 8);
    return { opcode: op0, handle, value: pdu.subarray(3), handles: [handle], fields: {} };
  }
  const c = new ByteCursor(pdu);
  const out: DecodedAtt = { opcode: pdu[0] ?? 0, handles: [], fields: {} };
  const f = out.fields;
  // The lists a response carries exist (empty) even when the PDU ends before them: consumers
  // iterate them without checks, and a PDU of only its opcode is a problem, not a crash.
  const LIST_FIELD = LIST_FIELDS[out.opcode];
  if (LIST_FIELD) f[LIST_FIELD] = [];
  try {
    const op = c.u8('opcode');
    switch (op) {
      case 0x01: {
        f.requestOpcode = c.u8('request opcode');
        f.requestOpcodeName = attOpcodeName(f.requestOpcode as number);
        out.handle = c.u16le('handle in error');
        out.handles.push(out.handle);
        f.errorCode = c.u8('error code');
        f.errorName = ATT_ERROR_NAMES[f.errorCode as number] ?? 'Unknown';
        break;
      }
      case 0x02:
      case 0x03:
        f.mtu = c.u16le('MTU');
        break;
      case 0x04:
        f.startHandle = c.u16le('starting handle');
        f.endHandle = c.u16le('ending handle');
        break;
      case 0x05: {
        const format = c.u8('format');
        f.format = format;
        const size = format === 2 ? 16 : 2;
        const info: { handle: number; uuid: string }[] = [];
        while (c.remaining >= 2 + size) {
          const h = c.u16le();
          info.push({ handle: h, uuid: uuidFromLe(c.bytesN(size)) });
          out.handles.push(h);
        }
        f.information = info;
        break;
      }
      case 0x06:
        f.startHandle = c.u16le('starting handle');
        f.endHandle = c.u16le('ending handle');
        f.attributeType = uuidFromLe(c.bytesN(2, 'attribute type'));
        out.value = c.rest();
        break;
      case 0x07: {
        const list: { handle: number; groupEndHandle: number }[] = [];
        while (c.remaining >= 4) {
          const h = c.u16le();
          list.push({ handle: h, groupEndHandle: c.u16le() });
          out.handles.push(h);
        }
        f.handlesInformation = list;
        break;
      }
      case 0x08:
      case 0x10:
        f.startHandle = c.u16le('starting handle');
        f.endHandle = c.u16le('ending handle');
        f.attributeType = uuidFromLe(c.rest());
        break;
      case 0x09: {
        const len = c.u8('length');
        f.length = len;
        const list: { handle: number; value: Uint8Array }[] = [];
        if (len >= 2) {
          while (c.remaining >= len) {
            const h = c.u16le();
            list.push({ handle: h, value: c.bytesN(len - 2) });
            out.handles.push(h);
          }
        }
        f.attributeData = list;
        break;
      }
      case 0x0a:
        out.handle = c.u16le('handle');
        out.handles.push(out.handle);
        break;
      case 0x0b:
      case 0x0d:
      case 0x0f:
      case 0x21:
        out.value = c.rest();
        break;
      case 0x0c:
        out.handle = c.u16le('handle');
        out.handles.push(out.handle);
        f.offset = c.u16le('offset');
        break;
      case 0x0e:
      case 0x20: {
        const hs: number[] = [];
        while (c.remaining >= 2) hs.push(c.u16le());
        out.handles.push(...hs);
        out.handle = hs[0];
        f.setOfHandles = hs;
        break;
      }
      case 0x11: {
        const len = c.u8('length');
        f.length = len;
        const list: { startHandle: number; endHandle: number; uuid: string }[] = [];
        if (len >= 4) {
          while (c.remaining >= len) {
            const s = c.u16le();
            const e = c.u16le();
            list.push({ startHandle: s, endHandle: e, uuid: uuidFromLe(c.bytesN(len - 4)) });
            out.handles.push(s);
          }
        }
        f.attributeData = list;
        break;
      }
      case 0x12:
      case 0x52:
      case 0x1b:
      case 0x1d:
        out.handle = c.u16le('handle');
        out.handles.push(out.handle);
        out.value = c.rest();
        break;
      case 0xd2: {
        out.handle = c.u16le('handle');
        out.handles.push(out.handle);
        const rest = c.rest();
        const sigStart = Math.max(0, rest.length - 12);
        out.value = rest.subarray(0, sigStart);
        f.signature = toHex(rest.subarray(sigStart));
        break;
      }
      case 0x16:
      case 0x17:
        out.handle = c.u16le('handle');
        out.handles.push(out.handle);
        f.offset = c.u16le('offset');
        out.value = c.rest();
        break;
      case 0x18:
        f.flags = c.u8('flags');
        break;
      case 0x13:
      case 0x19:
      case 0x1e:
        break;
      case 0x23: {
        const list: { handle: number; value: Uint8Array }[] = [];
        while (c.remaining >= 4) {
          const h = c.u16le();
          const len = c.u16le();
          list.push({ handle: h, value: c.bytesN(Math.min(len, c.remaining)) });
          out.handles.push(h);
        }
        out.handle = list[0]?.handle;
        f.values = list;
        break;
      }
      default:
        out.value = c.rest();
        f.unknownOpcode = true;
        break;
    }
    if (c.remaining > 0) f.trailing = toHex(c.rest());
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    out.problem = e.message;
  }
  return out;
}
