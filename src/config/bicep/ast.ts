/** The Bicep syntax tree. Every node keeps its span (offsets into the file text). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type Expr =
  | ({ kind: 'string'; pieces: string[]; holes: Expr[] } & Span)
  | ({ kind: 'int'; value: number } & Span)
  | ({ kind: 'bool'; value: boolean } & Span)
  | ({ kind: 'null' } & Span)
  | ({ kind: 'array'; items: ArrayItem[] } & Span)
  | ({ kind: 'object'; items: ObjectItem[] } & Span)
  | ({ kind: 'ident'; name: string } & Span)
  | ({ kind: 'call'; ns: string | undefined; name: string; args: Expr[]; nameSpan: Span } & Span)
  | ({ kind: 'method'; base: Expr; name: string; args: Expr[] } & Span)
  | ({ kind: 'member'; base: Expr; name: string; safe: boolean } & Span)
  | ({ kind: 'index'; base: Expr; index: Expr; safe: boolean; fromEnd: boolean } & Span)
  | ({ kind: 'child'; base: Expr; name: string } & Span)
  | ({ kind: 'unary'; op: '!' | '-' | '+'; expr: Expr } & Span)
  | ({ kind: 'nonNull'; expr: Expr } & Span)
  | ({ kind: 'binary'; op: string; left: Expr; right: Expr } & Span)
  | ({ kind: 'ternary'; cond: Expr; then: Expr; else: Expr } & Span)
  | ({ kind: 'lambda'; params: string[]; body: Expr } & Span)
  | ({ kind: 'for'; item: string | undefined; index: string | undefined; source: Expr; body: Expr; filter: Expr | undefined } & Span)
  | ({ kind: 'if'; cond: Expr; body: Expr } & Span)
  | ({ kind: 'paren'; expr: Expr } & Span)
  | ({ kind: 'error' } & Span);

export type ArrayItem = Expr | ({ kind: 'spread'; expr: Expr } & Span);

export type ObjectItem =
  | ({ kind: 'prop'; key: string | Expr; value: Expr; keySpan: Span } & Span)
  | ({ kind: 'spread'; expr: Expr } & Span)
  | ({ kind: 'resource'; decl: ResourceDecl } & Span);

export interface Decorator extends Span {
  readonly call: Expr;
  readonly name: string;
}

export interface TypeExpr extends Span {
  readonly nullable: boolean;
  /** Simple type name when the type is one: string, int, bool, object, array, or a user type. */
  readonly name?: string;
  readonly isArray?: boolean;
  /** Literal values of a literal/union type: 'Basic' | 'Standard'. */
  readonly literals?: unknown[];
  /** For `resource 'type@ver'` params/outputs. */
  readonly resourceType?: string;
  /** Object types: the declared properties ('*' for additional properties). */
  readonly properties?: { name: string; type: TypeExpr; optional: boolean }[];
  /** `T[]`: the item type. */
  readonly items?: TypeExpr;
  /** Decorators on the type (e.g. @sealed()). */
  readonly sealed?: boolean;
}

interface DeclBase extends Span {
  readonly decorators: Decorator[];
  readonly name: string;
  readonly nameSpan: Span;
}

export interface ParamDecl extends DeclBase {
  readonly kind: 'param';
  readonly type: TypeExpr | undefined;
  readonly value: Expr | undefined;
}
export interface VarDecl extends DeclBase {
  readonly kind: 'var';
  readonly value: Expr;
}
export interface OutputDecl extends DeclBase {
  readonly kind: 'output';
  readonly type: TypeExpr | undefined;
  readonly value: Expr;
}
export interface ResourceDecl extends DeclBase {
  readonly kind: 'resource';
  readonly typeString: string;
  readonly typeSpan: Span;
  readonly existing: boolean;
  readonly value: Expr;
}
export interface ModuleDecl extends DeclBase {
  readonly kind: 'module';
  readonly path: string;
  readonly pathSpan: Span;
  readonly value: Expr;
}
export interface FuncDecl extends DeclBase {
  readonly kind: 'func';
  readonly params: { name: string; type: TypeExpr }[];
  readonly body: Expr;
}
export interface TypeDecl extends DeclBase {
  readonly kind: 'type';
  readonly type: TypeExpr;
}
export interface ImportDecl extends Span {
  readonly kind: 'import';
  readonly decorators: Decorator[];
  /** undefined for `import * as ns`. */
  readonly items: { name: string; alias: string; span: Span }[] | undefined;
  readonly wildcardAlias: string | undefined;
  readonly path: string;
  readonly pathSpan: Span;
}
export interface SimpleStmt extends Span {
  readonly kind: 'targetScope' | 'metadata' | 'using' | 'extends' | 'extension' | 'assert' | 'test';
  readonly name?: string;
  readonly value?: Expr;
  readonly path?: string;
  readonly pathSpan?: Span;
  readonly decorators: Decorator[];
}

export type Statement = ParamDecl | VarDecl | OutputDecl | ResourceDecl | ModuleDecl | FuncDecl | TypeDecl | ImportDecl | SimpleStmt;

export interface Program {
  readonly statements: Statement[];
}
