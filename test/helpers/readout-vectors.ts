/**
 * Public Instant Readout vectors: encrypted adverts (manufacturer data after the company id) with their
 * keys and the values their authors assert, from keshavdv/victron-ble's test suite (file, test and
 * commit named per vector). Values the authors do not assert were worked out by hand where noted.
 */
const VB = 'keshavdv/victron-ble';

export interface Vector {
  src: string;
  md: string;
  key: string;
  product: number;
  record: number;
  values: Record<string, unknown>;
}

/** Encrypted adverts with their keys, from victron-ble's end-to-end tests. */
export const E2E: Vector[] = [
  {
    src: `${VB} tests/test_solar_charger.py test_end_to_end_parse @ 08a64d53 (BlueSolar MPPT 75|15)`,
    md: '100242a0016207adceb37b605d7e0ee21b24df5c',
    key: 'adeccb947395801a4dd45a2eaa44bf17',
    product: 0xa042,
    record: 0x01,
    // victron-ble: 13.88 V, 1.4 A, yield 30 Wh, 19 W, load 0.0 A, absorption.
    values: { deviceState: 'Absorption', chargerError: 'No error', batteryVoltage: 13.88, batteryCurrent: 1.4, yieldToday: 0.03, pvPower: 19, loadCurrent: 0 },
  },
  {
    src: `${VB} tests/test_battery_monitor.py test_end_to_end_parse @ 72fdf37e (SmartShunt 500A/50mV)`,
    md: '100289a302b040af925d09a4d89aa0128bdef48c6298a9',
    key: 'aff4d0995b7d1e176c0c33ecb9e70dcd',
    product: 0xa389,
    record: 0x02,
    // victron-ble: 12.53 V, 0 A, SoC 50 %, consumed -50.0 Ah (document: "Consumed Ah = -Record value"), no alarm, aux disabled, remaining None.
    values: { timeToGo: null, batteryVoltage: 12.53, alarmReason: [], auxInput: 'None', batteryCurrent: 0, consumedAh: -50, soc: 50 },
  },
  {
    src: `${VB} tests/test_dcdc_converter.py test_end_to_end_parse @ 72fdf37e (Orion Smart 12V|12V-18A isolated)`,
    md: '1000c0a304121d64ca8d442b90bbdf6a8cba',
    key: '64ba49f1a8562e45197a8e1fe50d7658',
    product: 0xa3c0,
    record: 0x04,
    values: { deviceState: 'Off', chargerError: 'No error', inputVoltage: 13.15, outputVoltage: null, offReason: ['Engine shutdown detection'] },
  },
  {
    src: `${VB} tests/test_smart_battery_protect.py test_parse @ 72fdf37e (Smart BatteryProtect 12/24V-65A)`,
    md: '1080b0a3093523fadedea38b1af8bcbde91ca8b6dbb60e',
    key: 'fac570d66380b797a5b7543758be00e4',
    product: 0xa3b0,
    record: 0x09,
    values: { deviceState: 'Active', outputState: 'On', errorCode: 'No error', alarmReason: [], warningReason: [], inputVoltage: 13.07, outputVoltage: 13.07, offReason: [] },
  },
  {
    src: `${VB} tests/test_vebus.py test_parse_data @ 72fdf37e (MultiPlus-II over VE.Bus)`,
    md: '100380270c1252dad26f0b8eb39162074d140df410',
    key: 'da3f5fa2860cb1cf86ba7a6d1d16b9dd',
    product: 0x2780,
    record: 0x0c,
    values: { deviceState: 'Float', veBusError: 0, batteryCurrent: 23.2, batteryVoltage: 14.45, activeAcIn: 'AC in 1', activeAcInPower: 1459, acOutPower: 1046, alarm: 'No alarm', batteryTemperature: 32, soc: null },
  },
  {
    src: `${VB} tests/test_vebus.py test_inverter @ 72fdf37e`,
    md: '100380270ce1b2dabd34912a6ecec963899227a220',
    key: 'da3f5fa2860cb1cf86ba7a6d1d16b9dd',
    product: 0x2780,
    record: 0x0c,
    values: { deviceState: 'Inverting', veBusError: 0, batteryCurrent: -5.9, batteryVoltage: 12.43, activeAcIn: 'Not connected', activeAcInPower: 0, acOutPower: 45, alarm: 'No alarm', batteryTemperature: 30, soc: null },
  },
  {
    src: `${VB} tests/test_dc_energy_meter.py test_end_to_end_parse @ 21db7652 (SmartShunt as DC energy meter)`,
    md: '100289a30d787fafde83ccec982199fd815286',
    key: 'aff4d0995b7d1e176c0c33ecb9e70dcd',
    product: 0xa389,
    record: 0x0d,
    values: { monitorMode: 'DC-DC charger', batteryVoltage: 12.52, alarmReason: [], auxVoltage: -0.01, auxInput: 'Starter voltage', batteryCurrent: 0 },
  },
  {
    src: `${VB} tests/test_ac_charger.py test_end_to_end_parse @ d137b168 (Blue Smart IP22 12/30)`,
    md: '100030a308f926c1b5170a0d2280335bf12d5ed083',
    key: 'c129cf8f75c3fe5a1655b481e205fb7d',
    product: 0xa330,
    record: 0x08,
    // victron-ble asserts state, error, 13.49 V, 0.4 A, channel 2 current and AC current None; the rest
    // worked out by hand from the plaintext 0600458500ffffffffffffbdff: byte 11 = 0xbd -> 0x3d - 40 = 21 °C.
    values: { deviceState: 'Storage', chargerError: 'No error', batteryVoltage1: 13.49, batteryCurrent1: 0.4, batteryVoltage2: null, batteryCurrent2: null, batteryVoltage3: null, batteryCurrent3: null, temperature: 21, acCurrent: null },
  },
  {
    src: `${VB} tests/test_multirs.py test_end_to_end_parse @ ebb813b8 (Multi RS Solar 48V/6000VA/100A)`,
    md: '100043a40bf4e434af0e46c3b8eb68e08e616993f70c',
    key: '346c410e8c824dd723c0f5b13b9eabc8',
    product: 0xa443,
    record: 0x0b,
    values: { deviceState: 'Inverting', chargerError: 'No error', batteryCurrent: -12.8, batteryVoltage: 51.71, activeAcIn: 'Not connected', activeAcInPower: 0, acOutPower: 722, pvPower: 0, yieldToday: 5.32 },
  },
  {
    src: `${VB} tests/test_battery_sense.py test_end_to_end_parse @ 08a64d53 (Smart Battery Sense: a battery monitor record, aux = temperature)`,
    md: '1000a4a3025f150d8dcbff517f30eb65e76b22a04ac4e1',
    key: '0da694539597f9cf6c613cde60d7bf05',
    product: 0xa3a4,
    record: 0x02,
    // victron-ble: 22.5 °C, 12.22 V. No current sensor: current 0x1FFFFF, consumed and SoC all ones = not available.
    values: { timeToGo: null, batteryVoltage: 12.22, alarmReason: [], temperature: 22.5, auxInput: 'Temperature', batteryCurrent: null, consumedAh: null, soc: null },
  },
];

