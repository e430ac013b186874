/**
 * Diagnostics: what Gatehouse tells a user about something they wrote. Parsers and validators
 * collect them into a DiagnosticBag and report all of them, rather than stopping at the first.
 */
import type { ErrorCode } from './errors.js';
import { GatehouseError } from './errors.js';
import type { Position, SourceFile } from './source.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: ErrorCode;
  readonly message: string;
  /** The file the diagnostic is about, as the user named it. */
  readonly file?: string;
  /** 1-based; present when the position is known. */
  readonly line?: number;
  readonly column?: number;
  /** The offending source line, for the caret display. */
  readonly sourceLine?: string;
  /** A JSON path inside a resource (`properties.httpListeners[1].properties.sslProfile.id`). */
  readonly path?: string;
  /** What to do about it, when there is something useful to say. */
  readonly hint?: string;
}

export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: ErrorCode, message: string, at?: DiagnosticLocation): void {
    this.items.push(makeDiagnostic('error', code, message, at));
  }

  warning(code: ErrorCode, message: string, at?: DiagnosticLocation): void {
    this.items.push(makeDiagnostic('warning', code, message, at));
  }

  addAll(ds: Iterable<Diagnostic>): void {
    for (const d of ds) this.items.push(d);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  /** Throws a GH_CONFIG_INVALID error carrying every diagnostic when any of them is an error. */
  throwIfErrors(what = 'configuration'): void {
    if (this.hasErrors) throw new DiagnosticsError(this.items, what);
  }
}

export interface DiagnosticLocation {
  file?: SourceFile | string;
  /** An offset into file (needs a SourceFile) or a position. */
  offset?: number;
  position?: Position;
  path?: string;
  hint?: string;
}

export function makeDiagnostic(severity: Severity, code: ErrorCode, message: string, at?: DiagnosticLocation): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { severity, code, message };
  if (at) {
    const file = at.file;
    if (typeof file === 'string') d.file = file;
    else if (file) {
      d.file = file.path;
      const pos = at.position ?? (at.offset !== undefined ? file.positionAt(at.offset) : undefined);
      if (pos) {
        d.line = pos.line;
        d.column = pos.column;
        d.sourceLine = file.lineText(pos.line);
      }
    }
    if (typeof file === 'string' && at.position) {
      d.line = at.position.line;
      d.column = at.position.column;
    }
    if (at.path !== undefined) d.path = at.path;
    if (at.hint !== undefined) d.hint = at.hint;
  }
  return d;
}

/**
 * One line per diagnostic, as compilers print them: `FILE:LINE:COLUMN: error CODE message`.
 * With `withSource`, the offending line and a caret follow.
 */
export function formatDiagnostic(d: Diagnostic, options: { withSource?: boolean } = {}): string {
  let where = d.file ?? '';
  if (d.line !== undefined) where += `:${d.line}:${d.column ?? 1}`;
  const path = d.path ? ` (at ${d.path})` : '';
  let out = `${where ? where + ': ' : ''}${d.severity} ${d.code} ${d.message}${path}`;
  if (options.withSource && d.sourceLine !== undefined && d.column !== undefined) {
    const gutter = `${d.line} | `;
    out += `\n  ${gutter}${d.sourceLine}\n  ${' '.repeat(gutter.length + d.column - 1)}^`;
  }
  if (d.hint) out += `\n  hint: ${d.hint}`;
  return out;
}

export function formatDiagnostics(ds: readonly Diagnostic[], options: { withSource?: boolean } = {}): string {
  return ds.map((d) => formatDiagnostic(d, options)).join('\n');
}

export class DiagnosticsError extends GatehouseError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[], what = 'configuration') {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super('GH_CONFIG_INVALID', `${what} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${formatDiagnostics(errors, { withSource: true })}`);
    this.diagnostics = diagnostics;
  }
}
