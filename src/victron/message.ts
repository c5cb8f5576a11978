/**
 * Victron message framing (protocol.md, "Message framing"): a message is a CBOR unsigned opcode
 * followed by a fixed number of opcode-specific CBOR items. Parsing is tolerant: a message whose
 * parameters have unexpected types is still framed (its bytes are known) and carries `problems`.
 */
import { inflateSync } from 'node:zlib';
import { cborToJs, readItem, type CborItem } from './cbor.js';

export interface OpcodeDef {
  name: string;
  /** Number of CBOR items after the opcode. */
  params: number;
  /** CBOR major type each parameter must have (0 uint, 2 bytes, 3 text, 4 array; -1 any). */
  majors: number[];
  /** Who sends it. */
  from: 'app' | 'device';
}

/** The app's own opcode tables (protocol.md). */
export const OPCODES: Record<number, OpcodeDef> = {
  0x01: { name: 'get devices', params: 0, from: 'app', majors: [] },
  0x02: { name: 'device list', params: 1, from: 'device', majors: [4] },
  0x03: { name: 'subscribe', params: 1, from: 'app', majors: [0] },
  0x04: { name: 'unsubscribe', params: 1, from: 'app', majors: [0] },
  0x05: { name: 'get values', params: 2, from: 'app', majors: [0, 4] },
  0x06: { name: 'set values', params: 2, from: 'app', majors: [0, 4] },
  0x07: { name: 'response', params: 3, from: 'device', majors: [0, 0, 0] },
  0x08: { name: 'value', params: 3, from: 'device', majors: [0, 0, 2] },
  0x09: { name: 'value response', params: 3, from: 'device', majors: [0, 0, 0] },
  0x0a: { name: 'get path list', params: 1, from: 'app', majors: [0] },
  0x0b: { name: 'get path values', params: 2, from: 'app', majors: [0, 4] },
  0x0c: { name: 'set path values', params: 2, from: 'app', majors: [0, 4] },
  0x0d: { name: 'path list', params: 2, from: 'device', majors: [0, 2] },
  0x0e: { name: 'new path', params: 3, from: 'device', majors: [0, 0, 3] },
  0x0f: { name: 'path value', params: 3, from: 'device', majors: [0, 0, -1] },
  0x10: { name: 'path value response', params: 3, from: 'device', majors: [0, 0, 0] },
};

export interface VictronMessage {
  type: number;
  typeName: string;
  instance?: number;
  /** 0x05 get values: the registers asked for. */
  registers?: number[];
  /** 0x06 set values: register and raw value pairs. */
  entries?: { register: number; raw: Uint8Array }[];
  /** 0x08 value / 0x09 value response: the register. */
  register?: number;
  /** 0x08 value: the register's bytes. */
  raw?: Uint8Array;
  /** 0x07 response, 0x09 value response, 0x10 path value response: the code (0 = ok). */
  response?: number;
  /** 0x07 response: the opcode answered. */
  answeredType?: number;
  /** 0x02 device list: [instance, x] pairs (a trailing odd item is its own entry). */
  devices?: number[][];
  /** Path opcodes. */
  pathIndex?: number;
  pathIndexes?: number[];
  pathEntries?: { index: number; value: unknown }[];
  pathValue?: unknown;
  text?: string;
  /** 0x0d path list, after Qt qUncompress. */
  pathList?: string;
  /** Every parameter item as parsed. */
  params: CborItem[];
  /** Shapes that do not match the opcode table. */
  problems: string[];
}

export type ParseResult =
  | { ok: true; message: VictronMessage; end: number }
  | { ok: false; needMore: true }
  | { ok: false; needMore: false; kind: 'malformed' | 'not-an-opcode' | 'unknown-opcode'; error: string; offset: number };

const uintOf = (it: CborItem | undefined): number | undefined => (it && it.major === 'uint' && typeof it.value === 'number' ? it.value : undefined);

/** Qt's qCompress format: 4-byte big-endian uncompressed length, then a zlib stream. */
export function qUncompress(b: Uint8Array): Uint8Array {
  if (b.length < 4) throw new Error('shorter than the 4-byte length header');
  const expected = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const out = inflateSync(b.subarray(4));
  if (out.length !== expected) throw new Error(`inflated to ${out.length} bytes, header says ${expected}`);
  return out;
}

/** Interprets the parameters of a framed message by its opcode. */
function interpret(m: VictronMessage): void {
  const p = m.params;
  const need = (cond: boolean, what: string) => {
    if (!cond) m.problems.push(what);
    return cond;
  };
  if (OPCODES[m.type]!.params >= 1 && m.type !== 0x02) {
    const inst = uintOf(p[0]);
    if (need(inst !== undefined, 'instance is not an unsigned integer')) m.instance = inst;
  }
  switch (m.type) {
    case 0x02: {
      const a = p[0]!;
      if (!need(a.major === 'array', 'device list is not an array') || a.major !== 'array') break;
      const nums = a.items.map(uintOf);
      need(nums.every((n) => n !== undefined), 'device list holds non-integers');
      m.devices = [];
      for (let i = 0; i < nums.length; i += 2) m.devices.push(nums.slice(i, i + 2).map((n) => n ?? -1));
      need(nums.length % 2 === 0, 'device list has an odd number of items');
      break;
    }
    case 0x05: {
      const a = p[1]!;
      if (need(a.major === 'array', 'register list is not an array') && a.major === 'array') {
        const regs = a.items.map(uintOf);
        need(regs.every((r) => r !== undefined && r <= 0xffff), 'register list holds values that are not 16-bit registers');
        m.registers = regs.filter((r): r is number => r !== undefined);
      }
      break;
    }
    case 0x06: {
      const a = p[1]!;
      if (!need(a.major === 'array', 'set list is not an array') || a.major !== 'array') break;
      m.entries = [];
      // Pairs are either flat [reg, bytes, reg, bytes...] or nested [[reg, bytes], ...].
      const flat = a.items.every((x) => x.major !== 'array');
      const pairs: CborItem[][] = flat ? [] : a.items.map((x) => (x.major === 'array' ? x.items : [x]));
      if (flat) for (let i = 0; i < a.items.length; i += 2) pairs.push(a.items.slice(i, i + 2));
      for (const [r, v] of pairs) {
        const reg = uintOf(r);
        if (reg !== undefined && v && v.major === 'bytes') m.entries.push({ register: reg, raw: v.value });
        else m.problems.push('set list entry is not a register and a byte string');
      }
      break;
    }
    case 0x07:
      m.answeredType = uintOf(p[1]);
      m.response = uintOf(p[2]);
      need(m.answeredType !== undefined && m.response !== undefined, 'response fields are not unsigned integers');
      break;
    case 0x08:
      m.register = uintOf(p[1]);
      need(m.register !== undefined && m.register <= 0xffff, 'register is not a 16-bit unsigned integer');
      if (need(p[2]!.major === 'bytes', 'value is not a byte string') && p[2]!.major === 'bytes') m.raw = p[2]!.value;
      break;
    case 0x09:
      m.register = uintOf(p[1]);
      m.response = uintOf(p[2]);
      need(m.register !== undefined && m.response !== undefined, 'value response fields are not unsigned integers');
      break;
    case 0x0b: {
      const a = p[1]!;
      if (need(a.major === 'array', 'path index list is not an array') && a.major === 'array') m.pathIndexes = a.items.map(uintOf).filter((n): n is number => n !== undefined);
      break;
    }
    case 0x0c: {
      const a = p[1]!;
      if (need(a.major === 'array', 'path value list is not an array') && a.major === 'array') {
        m.pathEntries = [];
        const flat = a.items.every((x) => x.major !== 'array');
        const pairs: CborItem[][] = flat ? [] : a.items.map((x) => (x.major === 'array' ? x.items : [x]));
        if (flat) for (let i = 0; i < a.items.length; i += 2) pairs.push(a.items.slice(i, i + 2));
        for (const [k, v] of pairs) m.pathEntries.push({ index: uintOf(k) ?? -1, value: v ? cborToJs(v) : null });
      }
      break;
    }
    case 0x0d: {
      const b = p[1]!;
      if (need(b.major === 'bytes', 'path list is not a byte string') && b.major === 'bytes') {
        try {
          m.pathList = new TextDecoder().decode(qUncompress(b.value));
        } catch (e) {
          m.problems.push(`path list does not uncompress: ${(e as Error).message}`);
        }
      }
      break;
    }
    case 0x0e:
      m.pathIndex = uintOf(p[1]);
      if (need(p[2]!.major === 'text', 'path is not a text string') && p[2]!.major === 'text') m.text = p[2]!.value;
      break;
    case 0x0f:
      m.pathIndex = uintOf(p[1]);
      m.pathValue = cborToJs(p[2]!);
      if (p[2]!.major === 'bytes') m.raw = p[2]!.value;
      break;
    case 0x10:
      m.pathIndex = uintOf(p[1]);
      m.response = uintOf(p[2]);
      break;
  }
}

/** Parses one message at `offset`. */
/** End offset of the last smallUint() read (a module variable instead of a tuple: no allocation). */
let uintEnd = 0;

/** Small unsigned integer head at `p` (values < 2^32), or -1 when not that simple or not all there. */
function smallUint(buf: Uint8Array, p: number): number {
  const b = buf[p];
  if (b === undefined || b > 0x1a) return -1;
  if (b < 0x18) {
    uintEnd = p + 1;
    return b;
  }
  if (b === 0x18) {
    if (p + 1 >= buf.length) return -1;
    uintEnd = p + 2;
    return buf[p + 1]!;
  }
  if (b === 0x19) {
    if (p + 2 >= buf.length) return -1;
    uintEnd = p + 3;
    return (buf[p + 1]! << 8) | buf[p + 2]!;
  }
  if (p + 4 >= buf.length) return -1;
  uintEnd = p + 5;
  return ((buf[p + 1]! << 24) >>> 0) + ((buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!);
}

/** The bulk of a capture is 0x08 value messages: read them without the general item reader. */
function fastValue(buf: Uint8Array, offset: number): ParseResult | undefined {
  const inst = smallUint(buf, offset + 1);
  if (inst < 0) return undefined;
  const instEnd = uintEnd;
  const reg = smallUint(buf, instEnd);
  if (reg < 0) return undefined;
  const regEnd = uintEnd;
  const hb = buf[regEnd];
  if (hb === undefined || hb < 0x40 || hb > 0x58) return undefined;
  let len = hb - 0x40;
  let start = regEnd + 1;
  if (hb === 0x58) {
    if (start >= buf.length) return undefined;
    len = buf[start]!;
    start++;
  }
  const end = start + len;
  if (end > buf.length) return undefined;
  const raw = buf.subarray(start, end);
  const params: CborItem[] = [
    { major: 'uint', value: inst, start: offset + 1, end: instEnd },
    { major: 'uint', value: reg, start: instEnd, end: regEnd },
    { major: 'bytes', value: raw, start: regEnd, end },
  ];
  const message: VictronMessage = { type: 8, typeName: 'value', instance: inst, register: reg, raw, params, problems: [] };
  if (reg > 0xffff) message.problems.push('register is not a 16-bit unsigned integer');
  return { ok: true, message, end };
}

export function parseMessage(buf: Uint8Array, offset: number): ParseResult {
  if (buf[offset] === 0x08) {
    const fast = fastValue(buf, offset);
    if (fast) return fast;
  }
  // Decide on the first byte when it cannot start a message, instead of waiting for a long item.
  const b0 = buf[offset];
  if (b0 === undefined) return { ok: false, needMore: true };
  if (b0 >> 5 !== 0) return { ok: false, needMore: false, kind: 'not-an-opcode', error: `a message starts with an unsigned integer opcode, found byte 0x${b0.toString(16).padStart(2, '0')} at offset ${offset}`, offset };
  if (b0 >= 0x18 || OPCODES[b0] === undefined) return { ok: false, needMore: false, kind: 'unknown-opcode', error: `unknown message type 0x${b0.toString(16).padStart(2, '0')} at offset ${offset}`, offset };
  const head = readItem(buf, offset);
  if (!head.ok) return head.needMore ? head : { ok: false, needMore: false, kind: 'malformed', error: head.error, offset: head.offset };
  if (head.item.major !== 'uint' || typeof head.item.value !== 'number') {
    return { ok: false, needMore: false, kind: 'not-an-opcode', error: `a message starts with an unsigned integer opcode, found CBOR ${head.item.major} at offset ${offset}`, offset };
  }
  const type = head.item.value;
  const def = OPCODES[type];
  if (!def) return { ok: false, needMore: false, kind: 'unknown-opcode', error: `unknown message type 0x${type.toString(16).padStart(2, '0')} at offset ${offset}`, offset };
  const params: CborItem[] = [];
  let pos = head.end;
  for (let i = 0; i < def.params; i++) {
    // A parameter of the wrong CBOR type is known from its first byte: no need to wait for it.
    const want = def.majors[i]!;
    if (pos < buf.length && want >= 0 && buf[pos]! >> 5 !== want) {
      return { ok: false, needMore: false, kind: 'malformed', error: `${def.name}: parameter ${i + 1} is not a CBOR ${['unsigned integer', '', 'byte string', 'text string', 'array'][want]} (byte 0x${buf[pos]!.toString(16).padStart(2, '0')} at offset ${pos})`, offset: pos };
    }
    const r = readItem(buf, pos);
    if (!r.ok) return r.needMore ? r : { ok: false, needMore: false, kind: 'malformed', error: `${def.name}: ${r.error}`, offset: r.offset };
    params.push(r.item);
    pos = r.end;
  }
  const message: VictronMessage = { type, typeName: def.name, params, problems: [] };
  interpret(message);
  return { ok: true, message, end: pos };
}
