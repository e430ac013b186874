/**
 * The syntax tree of a policy expression. Every node carries its span: offsets into the policy
 * file (the compile offset is added by the parser), so diagnostics and runtime errors can name
 * line:column in the file the user wrote.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A type as written: `string`, `byte[]`, `Dictionary<string, string>`, `int?`, `System.Net.WebUtility`. */
export interface TypeNode extends Span {
  readonly kind: 'Type';
  /** Dotted name as written, predefined keywords kept (`string`, `System.String`). */
  readonly name: string;
  readonly args: readonly TypeNode[];
  /** Array ranks, outermost first: `byte[]` → [1]. */
  readonly ranks: readonly number[];
  readonly nullable: boolean;
}

export type Expr =
  | { kind: 'Literal'; start: number; end: number; value: unknown; type: 'int' | 'long' | 'uint' | 'ulong' | 'double' | 'float' | 'decimal' | 'string' | 'char' | 'bool' | 'null' }
  | { kind: 'Interpolated'; start: number; end: number; parts: (string | { expr: Expr; align: Expr | undefined; format: string | undefined })[] }
  | { kind: 'Name'; start: number; end: number; name: string; typeArgs: TypeNode[] | undefined }
  | { kind: 'PredefinedType'; start: number; end: number; type: TypeNode }
  | { kind: 'Member'; start: number; end: number; target: Expr; name: string; nameStart: number; typeArgs: TypeNode[] | undefined; conditional: boolean }
  | { kind: 'Call'; start: number; end: number; callee: Expr; args: Arg[] }
  | { kind: 'Index'; start: number; end: number; target: Expr; args: Arg[]; conditional: boolean }
  | { kind: 'Unary'; start: number; end: number; op: '+' | '-' | '!' | '~' | '++pre' | '--pre' | '++post' | '--post'; operand: Expr }
  | { kind: 'Binary'; start: number; end: number; op: string; left: Expr; right: Expr }
  | { kind: 'Assign'; start: number; end: number; op: string; target: Expr; value: Expr }
  | { kind: 'Conditional'; start: number; end: number; test: Expr; then: Expr; else: Expr }
  | { kind: 'Cast'; start: number; end: number; type: TypeNode; operand: Expr }
  | { kind: 'Is'; start: number; end: number; operand: Expr; type: TypeNode | undefined; pattern: Expr | undefined; designation: string | undefined; negated: boolean }
  | { kind: 'As'; start: number; end: number; operand: Expr; type: TypeNode }
  | { kind: 'TypeOf'; start: number; end: number; type: TypeNode }
  | { kind: 'NameOf'; start: number; end: number; name: string }
  | { kind: 'Default'; start: number; end: number; type: TypeNode | undefined }
  | { kind: 'Lambda'; start: number; end: number; params: Param[]; body: Expr | Block }
  | { kind: 'New'; start: number; end: number; type: TypeNode; args: Arg[] | undefined; init: Initializer | undefined }
  | { kind: 'NewArray'; start: number; end: number; type: TypeNode | undefined; sizes: Expr[]; items: Expr[] | undefined }
  | { kind: 'NewAnonymous'; start: number; end: number; members: { name: string; value: Expr }[] }
  | { kind: 'Checked'; start: number; end: number; operand: Expr }
  | { kind: 'Throw'; start: number; end: number; value: Expr }
  | { kind: 'Switch'; start: number; end: number; value: Expr; arms: { pattern: Expr | undefined; guard: Expr | undefined; result: Expr }[] };

export interface Arg {
  readonly value: Expr;
  /** `out x`, `out var x`, `out string[] x`, `ref x`. */
  readonly modifier: 'out' | 'ref' | 'in' | undefined;
  /** For `out T x` / `out var x`: the declared local. */
  readonly declare: { name: string; type: TypeNode | undefined } | undefined;
  readonly name: string | undefined;
}

export interface Param {
  readonly name: string;
  readonly type: TypeNode | undefined;
  readonly start: number;
}

export type Initializer =
  | { kind: 'Object'; members: { name: string; value: Expr | Initializer; start: number }[] }
  | { kind: 'Collection'; items: (Expr | Expr[])[] }
  | { kind: 'Index'; items: { index: Expr[]; value: Expr }[] };

export interface Block {
  readonly kind: 'Block';
  readonly start: number;
  readonly end: number;
  readonly body: Stmt[];
}

export interface VarDeclarator {
  readonly name: string;
  readonly start: number;
  readonly init: Expr | undefined;
}

export type Stmt =
  | Block
  | { kind: 'ExprStmt'; start: number; end: number; expr: Expr }
  | { kind: 'VarDecl'; start: number; end: number; type: TypeNode | undefined; vars: VarDeclarator[]; isConst: boolean }
  | { kind: 'If'; start: number; end: number; test: Expr; then: Stmt; else: Stmt | undefined }
  | { kind: 'Return'; start: number; end: number; value: Expr | undefined }
  | { kind: 'While'; start: number; end: number; test: Expr; body: Stmt }
  | { kind: 'DoWhile'; start: number; end: number; test: Expr; body: Stmt }
  | { kind: 'For'; start: number; end: number; init: Stmt[]; test: Expr | undefined; update: Expr[]; body: Stmt }
  | { kind: 'Foreach'; start: number; end: number; type: TypeNode | undefined; name: string; iterable: Expr; body: Stmt }
  | { kind: 'Break'; start: number; end: number }
  | { kind: 'Continue'; start: number; end: number }
  | { kind: 'Throw'; start: number; end: number; value: Expr | undefined }
  | { kind: 'Try'; start: number; end: number; body: Block; catches: { type: TypeNode | undefined; name: string | undefined; filter: Expr | undefined; body: Block }[]; finally: Block | undefined }
  | { kind: 'Switch'; start: number; end: number; value: Expr; sections: { labels: (Expr | 'default')[]; body: Stmt[] }[] }
  | { kind: 'LocalFunction'; start: number; end: number; name: string; returnType: TypeNode; params: Param[]; body: Expr | Block }
  | { kind: 'Using'; start: number; end: number; decl: Stmt | undefined; body: Stmt | undefined }
  | { kind: 'Empty'; start: number; end: number };

/** The parsed expression: `@(expr)` or `@{ statements }`. */
export type Program = { kind: 'ExprProgram'; expr: Expr } | { kind: 'BlockProgram'; block: Block };
