/**
 * The form in which `npm run build` ships a device profile in dist/ (`NAME.jsonl`): JSON Lines, the
 * profile without its registers on the first line, then one register per line, each written as
 * `{"id":N,...}` (decimal id first), non-ASCII characters escaped. The loader (src/profiles/load.ts)
 * takes each register's id from its line and parses the rest only when a capture uses that register:
 * common.json alone defines 2,579 registers (2 MB), and parsing them all was a third of
 * `vgatt decode`'s start-up (issue 11). Plain JavaScript: build.mjs runs before anything is compiled.
 */
export function packProfile(text) {
  const { registers = [], ...profile } = JSON.parse(text);
  const lines = [JSON.stringify({ ...profile, registers: [] })];
  for (const r of registers) lines.push(JSON.stringify({ ...r, id: typeof r.id === 'string' ? parseInt(r.id, 16) : r.id }));
  return lines.join('\n').replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
}
