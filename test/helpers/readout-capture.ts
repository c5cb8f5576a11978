/**
 * A capture built around keshavdv/victron-ble's public vectors (each test file named per device; see
 * test/adverts/records.test.ts for their commits): Victron adverts from five devices, a scan response
 * with a name, another company's advert, and a GATT session in which the app reads the SmartShunt's
 * register 0xEC65 (its advertisement key).
 */
import { adStructures, att, hex, leAdvertisingReport, leConnectionComplete, leExtendedAdvertisingReport, disconnectionComplete, type HciPacket } from './capture-writer.js';
import { Session, deviceTransfer, discovery } from './session.js';

// Vectors from keshavdv/victron-ble tests (see test/adverts/records.test.ts for each one's file and commit).
export const SHUNT = { addr: 'fd:d4:50:0f:6c:1b', md: '100289a302b040af925d09a4d89aa0128bdef48c6298a9', key: 'aff4d0995b7d1e176c0c33ecb9e70dcd' }; // test_battery_monitor.py
export const MPPT = { addr: 'c4:ea:11:22:33:44', md: '100242a0016207adceb37b605d7e0ee21b24df5c', key: 'adeccb947395801a4dd45a2eaa44bf17' }; // test_solar_charger.py
export const VEBUS = { addr: 'd0:00:00:00:00:0c', md: '100380270c1252dad26f0b8eb39162074d140df410', key: 'da3f5fa2860cb1cf86ba7a6d1d16b9dd' }; // test_vebus.py
export const SBP = { addr: 'd0:00:00:00:00:09', md: '1080b0a3093523fadedea38b1af8bcbde91ca8b6dbb60e', key: 'fac570d66380b797a5b7543758be00e4' }; // test_smart_battery_protect.py
export const DCDC = { addr: 'd0:00:00:00:00:04', md: '1000c0a304121d64ca8d442b90bbdf6a8cba' }; // test_dcdc_converter.py
const victronAd = (md: string) => adStructures([0x01, hex('06')], [0xff, Uint8Array.from([0xe1, 0x02, ...hex(md)])]);

export function readoutCapture(): { packets: HciPacket[]; keyFrame: number } {
  const s = new Session(Date.UTC(2026, 0, 2, 10, 0, 0) * 1000);
  const adv = (addr: string, data: Uint8Array, rssi: number, eventType = 0x00) => s.ev(leAdvertisingReport([{ address: addr, eventType, data, rssi }]));
  adv(SHUNT.addr, adStructures([0x09, 'SmartShunt HQ2023']), -70, 0x04); // 1: scan response, the name
  adv(SHUNT.addr, victronAd(SHUNT.md), -71); // 2
  adv(SHUNT.addr, victronAd(SHUNT.md), -73); // 3: identical
  adv(SHUNT.addr, victronAd(SHUNT.md), -72); // 4: identical
  s.ev(leExtendedAdvertisingReport([{ address: MPPT.addr, addressType: 0, eventType: 0x0013, sid: 1, txPower: 4, rssi: -60, data: victronAd(MPPT.md) }])); // 5
  adv(VEBUS.addr, victronAd(VEBUS.md), -80); // 6
  adv(SBP.addr, victronAd(SBP.md), -81); // 7
  adv(DCDC.addr, victronAd(DCDC.md), -82); // 8
  adv('00:11:22:33:44:55', adStructures([0x09, 'not victron'], [0xff, hex('4c000215')]), -90); // 9: another company
  // The app connects to the SmartShunt and reads 0xEC65 (VE_REG_BLE_ADVERTISEMENT_KEY).
  const conn = 0x0040;
  s.ev(leConnectionComplete(conn, SHUNT.addr));
  discovery(s, conn, 'SmartShunt HQ2023', 31);
  s.send(conn, att.writeCmd(0x27, hex('05008119ec65'))); // get 0xEC65
  deviceTransfer(s, conn, { lastData: 0x24, data: 0x27 }, [{ hex: '080019ec6550' + SHUNT.key }], 20);
  const keyFrame = s.frame;
  s.ev(disconnectionComplete(conn));
  adv(SHUNT.addr, victronAd(SHUNT.md), -71); // after the connection: identical again
  return { packets: s.packets, keyFrame };
}

