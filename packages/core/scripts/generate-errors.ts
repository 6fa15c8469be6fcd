// Writes docs/errors.md from the error-code catalogue (packages/core/src/codes.ts): every code
// once, grouped by the package that raises it, with its meaning. With --check it changes nothing
// and fails when the committed file is not what the catalogue makes.
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../src/codes.ts';

const file = new URL('../../../docs/errors.md', import.meta.url);
const check = process.argv.includes('--check');

const escapeCell = (text: string): string => text.replaceAll('|', '\\|');
const byArea = new Map<string, [string, (typeof ERROR_CODES)[keyof typeof ERROR_CODES]][]>();
for (const [code, info] of Object.entries(ERROR_CODES)) {
  const list = byArea.get(info.area) ?? [];
  list.push([code, info]);
  byArea.set(info.area, list);
}
const areas = [...byArea.keys()].sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : a.localeCompare(b)));
let text = `# Error and warning codes

Generated from \`packages/core/src/codes.ts\` by \`pnpm generate\`; do not edit by hand.

Every \`OcneError\` the SDK throws, and every \`warning\` event it emits, carries one of these codes.
They are stable: branch on \`error.code\` (and \`isOcneError(error)\` from \`@ocne/core\`), never on
messages. \`ERROR_CODES\` of \`@ocne/core\` holds this table as data.

${Object.keys(ERROR_CODES).length} codes.
`;
for (const area of areas) {
  text += `\n## ${area === '*' ? 'Every package' : `\`${area}\``}\n\n| code | kind | meaning |\n|---|---|---|\n`;
  for (const [code, info] of byArea.get(area) ?? []) {
    text += `| \`${code}\` | ${info.severity} | ${escapeCell(info.meaning)} |\n`;
  }
}

let current = '';
try {
  current = readFileSync(file, 'utf8');
} catch {}
if (current !== text) {
  if (check) {
    console.error('docs/errors.md is not current: run `pnpm generate` and commit the result.');
    process.exit(1);
  }
  writeFileSync(file, text);
  console.log('wrote docs/errors.md');
}
