/**
 * Policy expressions: `@(expression)` and `@{ statements }` in API Management's C# subset,
 * compiled once at load into closures that run against a HostContext.
 */
import type { Diagnostic } from '../core/diagnostics.js';
import { makeDiagnostic } from '../core/diagnostics.js';
import type { SourceFile } from '../core/source.js';
import type { HostContext } from './host.js';
import { parseProgram, ParseError } from './parser.js';
import { compileProgram, CompileError } from './compiler.js';
import { DotNetException, ExpressionError, EXPR_CODES } from './errors.js';
import { csToString, DEFAULT_LIMITS, LimitExceeded, Runtime, type Limits } from './runtime/core.js';
import { ContextObject, ResponseObject } from './runtime/apim.js';
import { NOT_IMPLEMENTED } from './runtime/library.js';
import type { StringMemo } from './runtime/memo.js';

export type { HostContext } from './host.js';
export { ExpressionError, DotNetException, EXPR_CODES } from './errors.js';
export { ResponseObject } from './runtime/apim.js';
/** The Jwt value expressions see ((Jwt)context.Variables["token"]): validate-jwt's output-token-variable-name can store asJwt(token). */
export { asJwt, Jwt } from './runtime/apim.js';
export { DEFAULT_LIMITS, type Limits } from './runtime/core.js';

export interface CompileOptions {
  /** The policy file the expression stands in, for diagnostics. */
  readonly file: SourceFile;
  /** Offset in file.text of the '@' that starts the expression. */
  readonly offset: number;
  /** Safety limits for every evaluation (defaults: DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
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
  /**
   * How often the expression's memoized call sites (a pure string function on a large input:
   * UrlDecode, FromBase64String, Replace with constant arguments …) found an equal input kept.
   */
  memoStats?(): { hits: number; misses: number };
}

export interface CompileResult {
  readonly expression: CompiledExpression | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

function notImplementedHint(message: string): { code: string; message: string } | undefined {
  const m = /the (?:type|name) '([\w.`]+)'/.exec(message);
  if (!m) return undefined;
  const parts = m[1]!.replace(/`\d+$/, '').split('.');
  const i = parts.findIndex((p) => NOT_IMPLEMENTED.has(p));
  if (i < 0) return undefined;
  const name = parts.slice(0, i + 1).join('.');
  return { code: EXPR_CODES.GH_EXPR_UNSUPPORTED, message: `the type '${name}' is allowed by API Management but Gatehouse does not implement it yet` };
}

/**
 * Compiles the text of one expression as it appears in a policy (starting with '@(' or '@{').
 * Never throws for bad input: syntax errors, unknown or disallowed types come back as diagnostics.
 */
export function compileExpression(text: string, options: CompileOptions): CompileResult {
  const file = options.file;
  const base = options.offset;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  let run: (rt: Runtime) => unknown;
  let memos: readonly StringMemo[];
  try {
    const program = parseProgram(text, base);
    ({ run, memos } = compileProgram(program));
  } catch (e) {
    let code: string = EXPR_CODES.GH_EXPR_SYNTAX;
    let message: string;
    let offset = base;
    if (e instanceof ParseError) {
      message = e.message;
      offset = e.offset;
    } else if (e instanceof CompileError) {
      code = e.code;
      message = e.message;
      offset = e.offset;
      const ni = notImplementedHint(message);
      if (ni) {
        code = ni.code;
        message = ni.message;
      }
    } else if (e instanceof RangeError) {
      message = 'the expression is nested too deeply';
    } else {
      code = 'GH_INTERNAL';
      message = `the expression compiler failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    return { expression: undefined, diagnostics: [makeDiagnostic('error', code as `GH_${string}`, message, { file, offset })] };
  }
  const where = (offset: number) => {
    const p = file.positionAt(offset);
    return { file: file.path, line: p.line, column: p.column };
  };
  return {
    expression: {
      source: text,
      evaluate(host: HostContext): unknown {
        const rt = new Runtime(host, limits);
        rt.at = base;
        rt.context = new ContextObject(host);
        try {
          const v = run(rt);
          return v === undefined ? null : v;
        } catch (e) {
          if (e instanceof DotNetException) {
            throw new ExpressionError('GH_EXPR_RUNTIME', e.typeName, e.message, where(e.offset ?? rt.at), e);
          }
          if (e instanceof LimitExceeded) {
            throw new ExpressionError('GH_EXPR_LIMIT', 'System.InvalidOperationException', `Expression evaluation stopped: ${e.message}.`, where(rt.at), e);
          }
          if (e instanceof RangeError && /call stack/i.test(e.message)) {
            throw new ExpressionError('GH_EXPR_LIMIT', 'System.InsufficientExecutionStackException', 'Insufficient stack to continue executing the program safely.', where(rt.at), e);
          }
          if (e instanceof ExpressionError) throw e;
          throw new ExpressionError('GH_EXPR_RUNTIME', 'System.Exception', e instanceof Error ? e.message : String(e), where(rt.at), e);
        }
      },
      memoStats() {
        let hits = 0;
        let misses = 0;
        for (const m of memos) {
          hits += m.hits;
          misses += m.misses;
        }
        return { hits, misses };
      },
    },
    diagnostics: [],
  };
}

/** Converts a value an expression returned to the string a policy attribute or body needs, as .NET's ToString() would. */
export function toPolicyString(value: unknown): string {
  return csToString(value);
}

export { ContextObject };
