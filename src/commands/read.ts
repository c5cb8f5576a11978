/**
 * What `att`, `gatt` and `decode` run: the CLI imports this, not index.ts, for those commands, so
 * that they do not load (compile) the report, diff, anonymize, doctor and Lua code they never call.
 * The bundle (scripts/build.mjs) makes a chunk of each and shares what both import (issue 11:
 * the whole command code was about 25 ms of every start).
 */
export { scanAtt, scanVictron } from '../pipeline.js';
export { loadProfiles, resolveProfile } from '../profiles/index.js';
export { victronToCsv, victronToNdjson, victronToText, writeVictronNdjson, VICTRON_CSV_HEADER, VICTRON_CSV_HEADER_FILES, VICTRON_TEXT_HEADER } from '../output/victron.js';
export { attToCsv, attToNdjson, attToText, writeAttNdjson, ATT_CSV_HEADER, ATT_CSV_HEADER_FILES, ATT_TEXT_HEADER } from '../output/att.js';
export { gattToText } from '../output/gatt.js';
export { LineWriter } from '../output/writer.js';
export { Progress } from '../output/progress.js';
