/**
 * Where the lines of an inline text setting (`extraIgnitionInline`) stand in the configuration
 * file that set it, so that a problem found inside the text (a Butane field on line 8 of the block)
 * can be reported at the file's own line and column. Pure: the file's text comes in.
 */
import { isScalar, LineCounter, parseDocument } from 'yaml';
import type { ValueSource } from './layers.js';

/** A line and column (both from 1). */
export interface TextPosition {
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  column: number;
}

/** Where an inline text setting and each of its lines stand in the configuration. */
export interface InlineTextOrigin {
  /** The configuration file, or the label of the layer (such as `<cluster overrides>`), that set the text. */
  source: string;
  /** The setting's path there, such as `extraIgnitionInline`. */
  path: string;
  /** The line where the value starts in `source` (for a block scalar, its `|` or `>`), when known. */
  line?: number;
  /** The column where the value starts, with {@link InlineTextOrigin.line}. */
  column?: number;
  /**
   * Where each line of the text starts in `source` (index 0 is the text's line 1), when its lines
   * stand one to one in the file: a literal block (`|`), or a scalar on one line without escapes.
   * Absent otherwise (folded or multi-line quoted text, escapes, a value reached through an alias).
   */
  lines?: readonly TextPosition[];
}

/** Splits a provenance path such as `a.b[2].c` into keys and indexes. */
function pathParts(path: string): Array<string | number> {
  return [...path.matchAll(/\[(\d+)\]|[^.[\]]+/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[0]));
}

/**
 * Maps the lines of `value` (the setting as loaded, set by the layer `at` names) to `fileText`
 * (that layer's file). Without the file, or when the file no longer holds this value, only the
 * value's own position from the provenance is known.
 */
export function inlineTextOrigin(value: string, at: ValueSource, fileText?: string): InlineTextOrigin {
  const origin: InlineTextOrigin = {
    source: at.source,
    path: at.path,
    ...(at.line !== undefined ? { line: at.line, column: at.column ?? 1 } : {}),
  };
  if (fileText === undefined || at.layer === 'derived') return origin;
  const lines = linesInFile(value, at.path, fileText);
  return lines === undefined ? origin : { ...origin, lines };
}

function linesInFile(value: string, path: string, fileText: string): TextPosition[] | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(fileText, { lineCounter: counter, uniqueKeys: false });
  if (doc.errors.length > 0) return undefined;
  const node = doc.getIn(pathParts(path), true);
  if (!isScalar(node) || node.value !== value || node.range == null) return undefined;
  const [start, end] = node.range;
  const head = counter.linePos(start);
  const sourceLine = (line: number): string | undefined => {
    const from = counter.lineStarts[line - 1];
    if (from === undefined) return undefined;
    const to = counter.lineStarts[line] ?? fileText.length;
    return fileText.slice(from, to).replace(/\r?\n$/, '');
  };
  if (node.type === 'BLOCK_LITERAL') {
    // A literal block's lines are the file's lines after the header, less their indentation.
    const textLines = value.split('\n');
    if (value.endsWith('\n')) textLines.pop();
    const out: TextPosition[] = [];
    for (const [i, text] of textLines.entries()) {
      const line = head.line + 1 + i;
      const inFile = sourceLine(line);
      if (inFile === undefined || !inFile.endsWith(text)) return undefined;
      out.push({ line, column: text === '' ? 1 : inFile.length - text.length + 1 });
    }
    return out;
  }
  // A scalar on one line stands as written when it has no escapes (plain, or quoted without any).
  const written = fileText.slice(start, end);
  if (written.includes('\n')) return undefined;
  if (node.type === 'PLAIN' && written === value) return [{ line: head.line, column: head.col }];
  if ((node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') && written.slice(1, -1) === value) {
    return [{ line: head.line, column: head.col + 1 }];
  }
  return undefined;
}
