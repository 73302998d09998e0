import { ERROR_GROUPS } from './catalogue.js';

/** Renders docs/errors.md from the catalogue, so the documentation can never drift from the code. */
export function renderErrorDocs(): string {
  const lines: string[] = [
    '# Error codes',
    '',
    'Every error ankibridge can show has a stable code. The CLI prints the code and exits with the',
    'exit code below; the HTTP API answers with the status below and a JSON body',
    '`{ "error": { "code", "message", "hint", "details" } }`. `{name}` in a message is filled',
    'with the details of the case at hand.',
    '',
    'This file is generated from `src/errors/codes/` by `npm run docs:errors`; a test checks it is current.',
    '',
  ];
  for (const group of ERROR_GROUPS) {
    lines.push(`## ${group.room}`, '', '| code | HTTP | exit | message | what to do |', '| --- | --- | --- | --- | --- |');
    for (const e of Object.values(group.errors)) {
      lines.push(`| \`${e.code}\` | ${e.http} | ${e.exit} | ${escapeCell(e.message)} | ${escapeCell(e.hint)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
