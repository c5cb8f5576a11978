/**
 * `vgatt anonymize`: a hand-built SmartShunt session holding its address, serial number, keys and
 * PIN in every place the tool must find them (HCI commands and events, legacy and extended
 * advertising reports, the GAP name across ACL fragments, register values spread over several
 * notifications, an indefinite-length CBOR string, a set written by the app), written in every
 * supported format. tshark is the oracle for the HCI layer; `vgatt decode` of the output must
 * equal the original's with only the mapped strings replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anonymizeCapture, SENSITIVE_REGISTERS, type MappingEntry } from '../../src/anonymize/index.js';
import { victronToNdjson } from '../../src/output/victron.js';
import { att, command, concatBytes, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop, writePcap, writePcapng, type HciPacket } from '../helpers/capture-writer.js';
import { deviceTransfer, discovery, Session } from '../helpers/session.js';
import { decodeAll, profiles } from '../helpers/decode.js';
import { REPO, SHARED_CAPTURES, tshark } from '../helpers/tshark.js';
import { buildZip } from '../helpers/bugreport.js';

const DEVICE = 'fd:d4:50:0f:6c:1b';
const LOCAL = '00:1a:7d:da:71:13';
const OTHER = 'e7:79:e6:1d:ef:04';
const SERIAL = 'HQ20234NXYN';
const NAME = `SmartShunt ${SERIAL}`;
const KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const CONN = 0x0040;
const PHONE = "Jane Doe's Pixel 7";

const le = (a: string) => a.split(':').reverse().join('');
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const u16le = (n: number) => [n & 0xff, n >> 8];

/** LE Advertising Report (0x3e/0x02), one report: ADV_IND, random address, flags + complete local name. */
function advertisingReport(address: string, name: string): Uint8Array {
  const ad = concatBytes([2, 0x01, 0x06], [name.length + 1, 0x09], Buffer.from(name, 'latin1'));
  const params = concatBytes([0x02, 1, 0x00, 0x01], hex(le(address)), [ad.length], ad, [0xc4]);
  return concatBytes([0x3e, params.length], params);
}

/** LE Extended Advertising Report (0x3e/0x0d), one report with a local name. */
function extendedReport(address: string, name: string): Uint8Array {
  const ad = concatBytes([name.length + 1, 0x09], Buffer.from(name, 'latin1'));
  const params = concatBytes([0x0d, 1, 0x13, 0x00, 0x01], hex(le(address)), [0x01, 0x00, 0xff, 0x7f, 0xc0, 0x00, 0x00, 0x00], new Array(6).fill(0), [ad.length], ad);
  return concatBytes([0x3e, params.length], params);
}

function session(): HciPacket[] {
  const s = new Session(1_700_000_000_000_000);
  s.packets.push({ type: 1, dir: 'sent', data: command(0x1009), timeUs: (s.t += 500) });
  // Write Local Name: the phone's name (248 bytes, NUL-padded), often its owner's name.
  s.packets.push({ type: 1, dir: 'sent', data: command(0x0c13, [...Buffer.from(PHONE, 'latin1'), ...new Array(248 - PHONE.length).fill(0)]), timeUs: (s.t += 500) });
  s.ev(concatBytes([0x0e, 10, 1, 0x09, 0x10, 0x00], hex(le(LOCAL))));
  s.ev(advertisingReport(DEVICE, NAME));
  s.ev(advertisingReport(OTHER, 'Phone'));
  s.ev(extendedReport(DEVICE, NAME));
  // LE Create Connection: scan interval, window, filter policy, peer address type, peer address, own type, intervals...
  s.packets.push({ type: 1, dir: 'sent', data: command(0x200d, [...u16le(0x60), ...u16le(0x30), 0, 1, ...hex(le(DEVICE)), 0, ...u16le(24), ...u16le(40), 0, 0, ...u16le(500), 0, 0, 0, 0]), timeUs: (s.t += 500) });
  s.ev(leConnectionComplete(CONN, DEVICE));
  discovery(s, CONN, NAME, 0x1f);
  // The GAP name again, in 10-byte ACL fragments: the serial number straddles fragments.
  s.send(CONN, att.readReq(3));
  s.recv(CONN, att.readRsp(Buffer.from(NAME, 'latin1')), 10);
  // The app asks for the serial number and sets the PIN (old code, new code: stringFixed[6] each).
  s.send(CONN, att.writeCmd(0x27, hex('05008119010a')));
  s.send(CONN, att.writeCmd(0x27, hex('06008219ec104c' + ascii('314159') + ascii('271828'))));
  // Values over Data/LastData in 20-byte pieces, notifications in 12-byte ACL fragments.
  deviceTransfer(
    s,
    CONN,
    { lastData: 0x24, data: 0x27 },
    [
      { hex: '08001901' + '0a4c' + ascii(SERIAL) + '00' },
      { hex: '080319ed8d422f05' },
      { hex: '080019ec6550' + KEY },
      { hex: '080019ec6646' + le(DEVICE) },
      // The serial number again, as an indefinite-length byte string in two chunks.
      { hex: '08001901' + '0a5f46' + ascii(SERIAL.slice(0, 6)) + '46' + ascii(SERIAL.slice(6)) + '00' + 'ff' },
      { hex: '090019ec1000' }, // value response to the PIN set
    ],
    20,
    { frag: 12 },
  );
  s.ev(disconnectionComplete(CONN));
  return s.packets;
}

const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-anon-'));
const packets = session();
const formats: [string, Buffer][] = [
  ['btsnoop', writeBtsnoop(packets, 1002)],
  ['1001.btsnoop', writeBtsnoop(packets, 1001)],
  ['2001.btsnoop', writeBtsnoop(packets, 2001, 1)],
  ['pcap', writePcap(packets)],
  ['be-ns.pcap', writePcap(packets, { bigEndian: true, nanoseconds: true })],
  ['pcapng', writePcapng([{ packets: packets.slice(0, 30), bigEndian: true, extraBlock: true }, { packets: packets.slice(30), tsresol: 9 }])],
];

/** The original's decode with every original replaced by its stand-in, in the forms NDJSON shows. */
function mapped(ndjson: string, mapping: MappingEntry[]): string {
  let s = ndjson;
  for (const m of mapping) {
    if (m.category === 'address') {
      s = s.split(m.original).join(m.standIn).split(le(m.original)).join(le(m.standIn));
    } else if (m.category === 'bytes') s = s.split(m.original).join(m.standIn);
    else {
      s = s.split(m.original).join(m.standIn).split(ascii(m.original)).join(ascii(m.standIn));
      // The serial number as the session's indefinite-length string: two chunks, cut after 6 characters.
      const chunked = (x: string) => `5f46${ascii(x.slice(0, 6))}46${ascii(x.slice(6))}`;
      if (m.original === SERIAL) s = s.split(chunked(m.original)).join(chunked(m.standIn));
    }
  }
  return s;
}

/**
 * The decode as NDJSON. Register values that are secrets keep their `raw` (compared through the
 * mapping) but not `value`/`text`, which are derived from it (a key's bytes shown as a string).
 */
async function ndjson(file: string): Promise<string> {
  const sensitive = new Set(SENSITIVE_REGISTERS.filter((r) => r.kind !== 'serial').map((r) => r.id));
  return (await decodeAll(file))
    .map((r) => {
      const o = JSON.parse(victronToNdjson(r)) as Record<string, unknown>;
      if (r.raw && r.register !== undefined && sensitive.has(r.register)) {
        delete o.value;
        delete o.text;
      }
      return JSON.stringify(o);
    })
    .join('\n');
}

for (const [name, bytes] of formats) {
  test(`anonymize ${name}: same size, decode equal but for the stand-ins, no original left`, async () => {
    const input = path.join(dir, `in.${name}`);
    const output = path.join(dir, `out.${name}`);
    writeFileSync(input, bytes);
    const r = await anonymizeCapture(input, output, { profiles, seed: 'test' });
    assert.equal(r.complete, true);
    const out = readFileSync(output);
    assert.equal(out.length, bytes.length);
    const byOrig = new Map(r.mapping.map((m) => [m.original, m]));
    // Hand-listed originals: each has a stand-in of its own shape.
    for (const a of [DEVICE, LOCAL, OTHER]) {
      const s = byOrig.get(a)?.standIn;
      assert.ok(s && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(s) && s !== a, `${a} -> ${s}`);
      // The two top bits (random address sub-type) are kept.
      assert.equal(parseInt(s.slice(0, 2), 16) >> 6, parseInt(a.slice(0, 2), 16) >> 6);
    }
    assert.match(byOrig.get(SERIAL)!.standIn, /^HQ\d{5}[A-Z]{4}$/);
    assert.notEqual(byOrig.get(SERIAL)!.standIn, SERIAL);
    assert.equal(byOrig.get(KEY)?.standIn.length, 32);
    assert.match(byOrig.get('314159271828')!.standIn, /^\d{12}$/);
    // No original anywhere in the file, in either byte order or as text.
    for (const o of [le(DEVICE), le(LOCAL), le(OTHER), KEY, ascii(SERIAL), ascii('314159271828'), DEVICE.replace(/:/g, '')]) assert.equal(out.indexOf(Buffer.from(o, 'hex')), -1, o);
    // Decode: equal to the original's once the mapping is applied.
    const before = await ndjson(input);
    const after = await ndjson(output);
    assert.ok(before.includes(`"device":"${DEVICE}"`) && before.includes(`"value":"${SERIAL}"`), 'the original decode shows the values');
    assert.equal(after, mapped(before, r.mapping));
    assert.ok(!after.includes(SERIAL) && !after.includes(DEVICE) && !after.includes(KEY));
    const serialValues = (await decodeAll(output)).filter((x) => x.register === 0x010a && x.type === 8);
    assert.deepEqual(serialValues.map((x) => x.value), [byOrig.get(SERIAL)!.standIn, byOrig.get(SERIAL)!.standIn]);
  });
}

test('anonymize: tshark reads the output; every frame, and every address field it shows, maps one to one', async () => {
  const input = path.join(dir, 'tshark-in.pcapng');
  const output = path.join(dir, 'tshark-out.pcapng');
  writeFileSync(input, formats.find(([n]) => n === 'pcapng')![1]);
  const r = await anonymizeCapture(input, output, { profiles, seed: 'tshark' });
  const map = new Map(r.mapping.map((m) => [m.original, m.standIn]));
  const fields = ['frame.len', 'frame.time_epoch', 'btatt.opcode', 'btatt.handle', 'bthci_evt.bd_addr', 'bthci_cmd.bd_addr', 'btcommon.eir_ad.entry.device_name', 'bthci_evt.le_meta_subevent', 'bthci_cmd.device_name'];
  const rows = (f: string) => tshark(['-r', f, '-T', 'fields', '-E', 'occurrence=a', ...fields.flatMap((x) => ['-e', x])]).replace(/\n$/, '').split('\n');
  const a = rows(input);
  const b = rows(output);
  assert.equal(b.length, a.length);
  assert.equal(a.length, packets.length + 1); // + the custom block, a frame for Wireshark
  let addresses = 0;
  let names = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = a[i]!.split('\t');
    const fb = b[i]!.split('\t');
    for (let k = 0; k < fields.length; k++) {
      if (k === 4 || k === 5) {
        // Addresses (tshark resolves none here): each one the stand-in of the original.
        if (fa[k]) addresses++;
        assert.equal(fb[k], fa[k]!.split(',').map((x) => map.get(x) ?? x).join(','), `frame ${i + 1} ${fields[k]}`);
        if (fa[k]) assert.notEqual(fb[k], fa[k]);
      } else if (k === 8) {
        if (fa[k]) {
          assert.equal(fa[k], PHONE);
          assert.equal(fb[k], map.get(PHONE));
          assert.match(fb[k]!, /^[A-Z][a-z]{3} [A-Z][a-z]{2}'[a-z] [A-Z][a-z]{4} \d$/);
        }
      } else if (k === 6) {
        if (fa[k]) names++;
        assert.equal(fb[k], fa[k]!.replace(SERIAL, map.get(SERIAL)!), `frame ${i + 1} name`);
      } else assert.equal(fb[k], fa[k], `frame ${i + 1} ${fields[k]}`);
    }
  }
  assert.ok(addresses >= 3, `tshark showed ${addresses} address fields`);
  assert.equal(names, 3);
});

test('anonymize CLI: same seed gives the same file, the mapping only with --map, values never printed', () => {
  const input = path.join(dir, 'cli-in.btsnoop');
  writeFileSync(input, formats[0]![1]);
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'anonymize', input, ...args], { encoding: 'utf8' });
  const o1 = path.join(dir, 'cli-1.btsnoop');
  const o2 = path.join(dir, 'cli-2.btsnoop');
  const o3 = path.join(dir, 'cli-3.btsnoop');
  const map = path.join(dir, 'cli-map.json');
  const r1 = run([o1, '--seed', 's1']);
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(existsSync(map), false);
  const r2 = run([o2, '--seed', 's1', '--map', map]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(readFileSync(o1), readFileSync(o2));
  const m = JSON.parse(readFileSync(map, 'utf8')) as { entries: MappingEntry[] };
  assert.equal(statSync(map).mode & 0o077, 0, 'mapping file readable by its owner only');
  const r3 = run([o3]);
  assert.equal(r3.status, 0, r3.stderr);
  assert.notDeepEqual(readFileSync(o3), readFileSync(o1), 'without a seed, a random key per run');
  for (const r of [r1, r2, r3]) {
    assert.match(r.stderr, /3 device addresses, 1 serial number, \d+ secrets? replaced/);
    for (const e of m.entries) {
      assert.ok(!r.stderr.includes(e.original), `stderr shows ${e.original}`);
      if (e.category !== 'text') assert.ok(!r.stderr.includes(e.standIn), `stderr shows ${e.standIn}`);
    }
  }
  const same = run([input]);
  assert.equal(same.status, 1);
  assert.match(same.stderr, /is the input/);
});

for (const [name, cut] of [
  // btsnoop: the last record's 24-byte header, H4 type byte and data; pcap: 16-byte header, 4-byte direction word, type byte, data.
  ['btsnoop', (full: Buffer) => full.length - 24 - 1 - packets[packets.length - 1]!.data.length],
  ['pcap', (full: Buffer) => full.length - 16 - 5 - packets[packets.length - 1]!.data.length],
  // pcapng (little-endian second section): the last block's length is its trailing u32.
  ['pcapng', (full: Buffer) => full.length - full.readUInt32LE(full.length - 4)],
] as const) {
  test(`anonymize: a damaged ${name} gives its complete records, a warning with the offset, exit 2`, () => {
    const full = formats.find(([n]) => n === name)![1];
    const lastStart = cut(full);
    const input = path.join(dir, `cut.${name}`);
    const output = path.join(dir, `cut-out.${name}`);
    writeFileSync(input, full.subarray(0, full.length - 3));
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'anonymize', input, output, '--seed', 'cut'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`byte offset ${lastStart}\\b`));
    const out = readFileSync(output);
    assert.equal(out.length, lastStart);
    assert.equal(tshark(['-r', output, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length, packets.length - 1 + (name === 'pcapng' ? 1 : 0));
    assert.equal(out.indexOf(Buffer.from(le(DEVICE), 'hex')), -1);
  });
}

test('anonymize: a serial number split between a Read Response and a Read Blob Response is replaced in both', async () => {
  // The ATT fixture: GAP name "SmartShunt HQ20234" read, then "NXYN" by Read Blob (frames 38-41).
  const input = path.join(REPO, 'test/fixtures/att-session.btsnoop');
  const output = path.join(dir, 'blob.btsnoop');
  const r = await anonymizeCapture(input, output, { profiles, seed: 'blob' });
  const standIn = r.mapping.find((m) => m.original === SERIAL)?.standIn;
  assert.ok(standIn, 'the serial number is learned from the two reads joined');
  // tshark shows the Read Response as the GAP Device Name (handle 3 is 2a00 by discovery), the blob as a value.
  const values = (f: string) => tshark(['-r', f, '-Y', 'btatt.opcode == 0x0b || btatt.opcode == 0x0d', '-T', 'fields', '-e', 'btatt.device_name', '-e', 'btatt.value']).trim().split('\n').map((l) => l.split('\t'));
  const before = values(input);
  const after = values(output);
  assert.equal(before[0]![0]! + Buffer.from(before[1]![1]!, 'hex').toString('latin1'), NAME);
  assert.equal(after[0]![0]! + Buffer.from(after[1]![1]!, 'hex').toString('latin1'), `SmartShunt ${standIn}`);
  assert.deepEqual(after.slice(2), before.slice(2));
});

test('anonymize: sample captures and the real SmartShunt capture decode the same but for the stand-ins', async () => {
  const files = [path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'), path.join(REPO, 'captures/smartsolar-session.pcapng'), path.join(REPO, 'captures/smartshunt-orion-session.pcap'), path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop')];
  for (const input of files) {
    const output = path.join(dir, `sample-${path.basename(input)}`);
    const r = await anonymizeCapture(input, output, { profiles, seed: 'samples' });
    assert.equal(r.complete, true);
    assert.equal(statSync(output).size, statSync(input).size);
    const before = await ndjson(input);
    assert.equal(await ndjson(output), mapped(before, r.mapping), path.basename(input));
    assert.ok(r.counts.addresses >= 1, `${path.basename(input)}: an address replaced`);
    // Every device address of the original decode is gone from the output's.
    for (const d of new Set([...before.matchAll(/"device":"([^"]+)"/g)].map((x) => x[1]!))) assert.ok(!readFileSync(output).includes(Buffer.from(le(d), 'hex')), d);
  }
  // The real capture: its GAP name "SmartShunt HQ20234NXYN" (in the ATT reads and advertising) is gone.
  const real = readFileSync(path.join(dir, 'sample-smartshunt-bluez-2020-part1.btsnoop'));
  assert.equal(readFileSync(files[3]!).includes(Buffer.from(SERIAL)), true);
  assert.equal(real.includes(Buffer.from(SERIAL)), false);
  assert.equal(execFileSync('tshark', ['-r', path.join(dir, 'sample-smartshunt-bluez-2020-part1.btsnoop'), '-Y', 'frame contains "SmartShunt HQ"', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean).length, 7);
});

test('anonymize: a bug report zip is refused (exit 1, nothing written), with how to get the snoop log out', async () => {
  const input = path.join(dir, 'bugreport.zip');
  const output = path.join(dir, 'bugreport-out.btsnoop');
  writeFileSync(input, await buildZip([{ name: 'FS/data/misc/bluetooth/logs/btsnoop_hci.log', data: formats[0]![1] }]));
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'anonymize', input, output], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /btsnoop, pcap and pcapng files only; for an Android bug report, extract FS\/data\/misc\/bluetooth\/logs\/btsnoop_hci\.log/);
  assert.equal(existsSync(output), false);
});
