// Validate an AsyncAPI document with the AsyncAPI project's own parser (the one its CLI and
// Studio use): structure against the spec's JSON Schema, Spectral's AsyncAPI rules, $refs,
// and every payload schema. Prints each diagnostic; exits 1 on any error, 2 on a usage error.
//
//   node tools/asyncapi/validate.mjs schemas/asyncapi.yaml
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const SEVERITY = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

const file = process.argv[2];
if (!file) {
  console.error('usage: node tools/asyncapi/validate.mjs DOCUMENT.yaml');
  process.exit(2);
}
const source = resolve(file);
const text = await readFile(source, 'utf8');
const { document, diagnostics } = await new Parser().parse(text, { source });

for (const d of diagnostics) {
  const where = d.range ? `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}` : file;
  const path = d.path?.length ? ` at ${d.path.join('.')}` : '';
  console.log(`${where}: ${SEVERITY[d.severity] ?? d.severity} ${d.code}: ${d.message}${path}`);
}
const count = (severity) => diagnostics.filter((d) => d.severity === severity).length;
const errors = count(DiagnosticSeverity.Error);
console.log(
  `${file}: AsyncAPI ${document?.version() ?? '?'}, ${errors} errors, ` +
    `${count(DiagnosticSeverity.Warning)} warnings, ${diagnostics.length} diagnostics in all`,
);
// A document the parser could not build is invalid even when no diagnostic says "error".
process.exit(errors > 0 || document === undefined ? 1 : 0);
