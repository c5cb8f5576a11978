/**
 * Writes the ATT-layer fixtures in test/fixtures/ from the hand-built session in
 * test/helpers/scenario.ts: our own writer for btsnoop (1001, 1002, 2001), pcap (both byte orders,
 * µs/ns, link 187/201) and pcapng (two sections of different byte order, simple packet blocks),
 * and Wireshark's editcap for pcap/pcapng written by Wireshark's own code.
 * Run: node --import tsx scripts/make-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeBtsnoop, writePcap, writePcapng } from '../test/helpers/capture-writer.js';
import { atomicSession } from '../test/helpers/scenario.js';

const dir = path.resolve(import.meta.dirname, '../test/fixtures');
mkdirSync(dir, { recursive: true });
const session = atomicSession();
const out = (name: string, b: Buffer) => writeFileSync(path.join(dir, name), b);

out('att-session.btsnoop', writeBtsnoop(session, 1002));
out('att-session-1001.btsnoop', writeBtsnoop(session, 1001));
out('att-session-monitor.btsnoop', writeBtsnoop(session, 2001, 1));
out('att-session-be.pcap', writePcap(session, { bigEndian: true }));
out('att-session-ns.pcap', writePcap(session, { nanoseconds: true }));
out('att-session-h4.pcap', writePcap(session, { linkType: 187 }));
out('att-session-2sections.pcapng', writePcapng([
  { packets: session.slice(0, 20), bigEndian: true, extraBlock: true },
  { packets: session.slice(20), tsresol: 9 },
]));

const editcap = (fmt: string, from: string, to: string) => execFileSync('editcap', ['-F', fmt, path.join(dir, from), path.join(dir, to)]);
editcap('pcap', 'att-session.btsnoop', 'att-session.editcap.pcap');
editcap('nsecpcap', 'att-session.btsnoop', 'att-session.editcap-ns.pcap');
editcap('pcapng', 'att-session.btsnoop', 'att-session.editcap.pcapng');
editcap('pcapng', 'att-session-monitor.btsnoop', 'att-session-monitor.editcap.pcapng');
console.log(`fixtures written to ${dir}`);
