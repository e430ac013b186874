/**
 * Error codes of policy expressions, and the error a failing expression throws at run time.
 */
import { defineCodes, GatehouseError } from '../core/errors.js';

export const EXPR_CODES = defineCodes({
  GH_EXPR_SYNTAX: 'A policy expression is not valid C# (the message says what was expected where).',
  GH_EXPR_TYPE_NOT_ALLOWED: 'A policy expression names a .NET type that API Management does not allow in expressions.',
  GH_EXPR_UNKNOWN_NAME: 'A policy expression uses a name that is neither a local, `context`, nor an allowed type.',
  GH_EXPR_UNSUPPORTED: 'A policy expression uses C# that Gatehouse does not implement yet.',
  GH_EXPR_RUNTIME: 'A policy expression threw a .NET exception while it ran; the pipeline reports it as ExpressionValueEvaluationFailure.',
  GH_EXPR_LIMIT: 'A policy expression exceeded a safety limit (statements, loop iterations, recursion depth, string size or time).',
});

/**
 * A .NET exception raised inside an expression (by the runtime or by `throw`). Expression code can
 * catch it with try/catch; at the evaluate() boundary it becomes an ExpressionError.
 */
export class DotNetException extends Error {
  /** Full .NET type name, e.g. System.NullReferenceException. */
  readonly typeName: string;
  /** Offset (inside the policy file) of the node that failed, when known. */
  offset: number | undefined;
  readonly inner: DotNetException | undefined;
  constructor(typeName: string, message: string, inner?: DotNetException) {
    super(message);
    this.name = 'DotNetException';
    this.typeName = typeName;
    this.inner = inner;
    this.offset = undefined;
  }
}

/** Thrown by evaluate(): code GH_EXPR_RUNTIME (a .NET exception) or GH_EXPR_LIMIT (a safety limit). */
export class ExpressionError extends GatehouseError {
  /** The .NET exception type, e.g. System.NullReferenceException. */
  readonly exceptionType: string;
  /** The .NET message, as context.LastError.Message shows it. */
  readonly dotNetMessage: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Always ExpressionValueEvaluationFailure: the LastError reason the pipeline sets. */
  readonly reason = 'ExpressionValueEvaluationFailure';
  constructor(
    code: 'GH_EXPR_RUNTIME' | 'GH_EXPR_LIMIT',
    exceptionType: string,
    message: string,
    where: { file?: string; line?: number; column?: number },
    cause?: unknown,
  ) {
    // the message is exactly .NET's, so that the pipeline can put it into context.LastError.Message
    // ("Expression evaluation failed. " + message); where and what type are in the fields and in location
    super(code, message, cause === undefined ? undefined : { cause, details: { exceptionType, ...where } });
    this.name = 'ExpressionError';
    this.exceptionType = exceptionType;
    this.dotNetMessage = message;
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
  }

  /** `file:line:column`, for logs and diagnostics. */
  get location(): string {
    return `${this.file ?? ''}${this.line !== undefined ? `:${this.line}:${this.column ?? 1}` : ''}`;
  }

  /** `file:line:column: System.NullReferenceException: Object reference not set …`. */
  describe(): string {
    return `${this.location ? this.location + ': ' : ''}${this.exceptionType}: ${this.message}`;
  }
}
