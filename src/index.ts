/** Library API of victron-gatt: every stage usable on its own. The CLI only wraps this. */
// Capture readers: btsnoop, pcap, pcapng -> HCI records.
export * from './capture/index.js';
// Bluetooth: HCI, ACL reassembly, L2CAP, ATT PDUs, GATT map.
export * from './bluetooth/index.js';
// Victron: stream reassembly, CBOR message framing, decoding by device profiles.
export * from './victron/index.js';
// Device profiles: loading, validation, register value decoding.
export * from './profiles/index.js';
// The stages wired: capture -> ATT (-> Victron records).
export * from './pipeline.js';
// Outputs.
export { attToJson, attToNdjson, attToCsv, attToText, ATT_CSV_HEADER, ATT_TEXT_HEADER, type AttJson } from './output/att.js';
export { victronToJson, victronToNdjson, victronToCsv, victronToText, victronText, controlText, VICTRON_CSV_HEADER, VICTRON_TEXT_HEADER } from './output/victron.js';
export { registerText, scalarFieldText } from './output/registers.js';
export { gattToText, gattToJson } from './output/gatt.js';
export { isoTimeUs } from './output/time.js';
export { LineWriter } from './output/writer.js';
// Summaries and comparison of captures, reports, the Wireshark dissector.
export * from './diff/index.js';
export * from './report/index.js';
export { CaptureDoctor, doctorToText, type DoctorReport, type Finding } from './doctor/index.js';
export { diagnose } from './doctor/run.js';
export { reportToHtml } from './report/html.js';
export { generateLua, luaString } from './lua/generate.js';
export { toHex, fromHex, ByteCursor, DecodeError } from './util/cursor.js';
export { AdvertParser, extractAdverts, parseAdvertisingReports, parseAdvertisingData, parseVictronManufacturerData, VICTRON_COMPANY_ID, type Advert, type AdvertisingReport, type VictronAdvertFields } from './adverts/index.js';
export { ReadoutDecoder, CaptureKeys, normalizeAddress, parseKey, ADVERTISEMENT_KEY_REGISTER, type InstantReadout, type AdvertKey, type NotDecodedReason } from './adverts/readout.js';
export { recordTable, loadRecordTable, decodeRecord, readBits, type RecordTable, type RecordDef, type FieldDef, type ReadoutField } from './adverts/records.js';
export { decryptReadout } from './adverts/crypto.js';
export { scanReadouts, captureAdvertKeys } from './pipeline.js';
