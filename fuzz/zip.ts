/**
 * Bug report zips around mutated captures, so the fuzzing reaches the Android inputs too (zip
 * directory, local headers, deflate, CRC, a zip cut short), written by yazl (the tests' zip writer).
 */
import { buildZip } from '../test/helpers/bugreport.js';
import type { Rng } from './mutate.js';

/** The capture as an Android bug report would hold it, in a random layout, sometimes cut or damaged after zipping. */
export async function inBugReport(capture: Uint8Array, rng: Rng): Promise<{ bytes: Uint8Array; what: string }> {
  const store = rng.int(4) === 0;
  // Sizes after the data (bit 3), as a streaming writer such as Android's libziparchive writes them.
  const descriptor = rng.int(2) === 0;
  const text = `== dumpstate: 2024-01-27 12:00:00\n${'------ DUMPSYS bluetooth_manager ------\n'.repeat(1 + rng.int(20))}`;
  let zip = await buildZip([
    { name: 'bugreport-fuzz-2024-01-27.txt', data: text, store, descriptor },
    { name: 'FS/data/misc/bluetooth/logs/btsnoop_hci.log', data: Buffer.from(capture), store, descriptor },
  ]);
  const kind = `${store ? 'stored' : 'deflated'}${descriptor ? ', sizes after the data' : ''}`;
  switch (rng.int(4)) {
    case 0: {
      const at = 30 + rng.int(zip.length - 30);
      return { bytes: zip.subarray(0, at), what: `in a bug report zip (${kind}), cut at ${at}` };
    }
    case 1: {
      zip = Buffer.from(zip);
      const at = 4 + rng.int(zip.length - 4);
      zip[at]! ^= 1 << rng.int(8);
      return { bytes: zip, what: `in a bug report zip (${kind}), bit flipped at ${at}` };
    }
    default:
      return { bytes: zip, what: `in a bug report zip (${kind})` };
  }
}
