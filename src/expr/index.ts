/**
 * Policy expressions: `@(expression)` and `@{ statements }` in API Management's C# subset,
 * compiled once at load into closures that run against a HostContext.
 *
 * CONTRACT STUB — the expressions work (issue 5) replaces the body of compileExpression.
 */
import type { Diagnostic } from '../core/diagnostics.js';
import type { SourceFile } from '../core/source.js';
import type { HostContext } from './host.js';

export type { HostContext } from './host.js';

export interface CompileOptions {
  /** The policy file the expression stands in, for diagnostics. */
  readonly file: SourceFile;
  /** Offset in file.text of the '@' that starts the expression. */
  readonly offset: number;
}

export interface CompiledExpression {
  /** The expression text, including '@(' … ')' or '@{' … '}'. */
  readonly source: string;
  /**
   * Runs the expression. Throws an ExpressionError (code GH_EXPR_RUNTIME) carrying the
   * .NET-style message when it fails; the pipeline turns it into context.LastError with reason
   * ExpressionValueEvaluationFailure.
   */
  evaluate(context: HostContext): unknown;
}

export interface CompileResult {
  readonly expression: CompiledExpression | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compiles the text of one expression as it appears in a policy (starting with '@(' or '@{').
 * Never throws for bad input: syntax errors, unknown or disallowed types come back as diagnostics.
 */
export function compileExpression(text: string, options: CompileOptions): CompileResult {
  void text;
  void options;
  return {
    expression: undefined,
    diagnostics: [{ severity: 'error', code: 'GH_EXPR_NOT_READY', message: 'policy expressions are not implemented yet', file: options.file.path }],
  };
}

/** Converts a value an expression returned to the string a policy attribute or body needs, as .NET's ToString() would. */
export function toPolicyString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}
