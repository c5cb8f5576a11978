/** Library API of victron-gatt: every stage usable on its own. The CLI only wraps this. */
export * from './capture/types.js';
export { openCapture, parseCapture, detectCaptureFormat, type CaptureReader } from './capture/index.js';
export * from './bluetooth/types.js';
export { AttExtractor, extractAtt } from './bluetooth/index.js';
export { scanAtt, type AttScan, type AttScanOptions } from './pipeline.js';
export { attToJson, attToNdjson, attToCsv, attToText, type AttJson } from './output/att.js';
export { gattToText, gattToJson } from './output/gatt.js';
export { isoTimeUs } from './output/time.js';
export { toHex, fromHex, ByteCursor, DecodeError } from './util/cursor.js';
export { AdvertParser, extractAdverts, parseAdvertisingReports, parseAdvertisingData, parseVictronManufacturerData, VICTRON_COMPANY_ID, type Advert, type AdvertisingReport, type VictronAdvertFields } from './adverts/index.js';
