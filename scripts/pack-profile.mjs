/**
 * The form in which `npm run build` ships a device profile in dist/ (`NAME.jsonl`): JSON Lines, the
 * profile without its registers on the first line, then an index of the registers (`[id, length, id,
 * length, ...]`: each register's decimal id and the length of its line), then one register per line,
 * each written as `{"id":N,...}` (decimal id first), in the index's order; non-ASCII characters are
 * escaped, so that a length in characters is a length in bytes. The loader (src/profiles/load.ts)
 * reads the first two lines only, and a register's line when a capture first uses that register:
 * common.json alone defines 2,579 registers (2 MB), and reading them all was a third of
 * `vgatt decode`'s start-up (issue 11). Plain JavaScript: build.mjs runs before anything is compiled.
 */
export function packProfile(text) {
  const { registers = [], ...profile } = JSON.parse(text);
  const lines = registers.map((r) => ascii(JSON.stringify({ ...r, id: registerId(r) })));
  const index = registers.flatMap((r, i) => [registerId(r), lines[i].length]);
  return [ascii(JSON.stringify({ ...profile, registers: [] })), JSON.stringify(index), ...lines].join('\n') + '\n';
}

function registerId(r) {
  return typeof r.id === 'string' ? parseInt(r.id, 16) : r.id;
}

function ascii(s) {
  return s.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
