/**
 * Policy documents: <policies> with its four sections compiled into steps, and the composition of
 * scopes (global → product → API → operation) by where <base/> stands — done once at load, so a
 * request runs one flat array per section.
 */
import type { Diagnostic } from '../core/diagnostics.js';
import { makeDiagnostic } from '../core/diagnostics.js';
import type { SourceFile } from '../core/source.js';
import { CompileContext, type CompileOptions } from './compile.js';
import { PolicyCodes } from './errors.js';
import { readPolicyXml, type PolicyElement, type ReadOptions } from './reader.js';
import { SECTIONS, type PolicyScope, type PolicyStep, type Section } from './runtime.js';

const BASE: unique symbol = Symbol('base');
export type SectionEntry = PolicyStep | typeof BASE;

export interface CompiledDocument {
  readonly scope: PolicyScope;
  readonly file: SourceFile;
  /** undefined when the section element is absent (it then inherits, as <base/> would). */
  readonly sections: Readonly<Record<Section, readonly SectionEntry[] | undefined>>;
}

export interface CompileDocumentResult {
  readonly document: CompiledDocument | undefined;
  readonly diagnostics: Diagnostic[];
}

export interface CompileDocumentOptions extends CompileOptions, ReadOptions {
  readonly scope: PolicyScope;
}

/** Reads and compiles a policy document (or a <fragment>, whose statements are checked as inbound). */
export function compilePolicyDocument(path: string, text: string, options: CompileDocumentOptions): CompileDocumentResult {
  const read = readPolicyXml(path, text, options);
  const diagnostics = read.diagnostics;
  const root = read.root;
  if (!root) return { document: undefined, diagnostics };
  const file = read.file;
  const sections: Record<Section, SectionEntry[] | undefined> = { inbound: undefined, backend: undefined, outbound: undefined, 'on-error': undefined };
  if (root.name === 'fragment') {
    const cc = new CompileContext(file, diagnostics, options, options.scope, 'inbound');
    cc.inFragment = true;
    sections.inbound = cc.compileChildren(root, root.children, '');
    return { document: { scope: options.scope, file, sections }, diagnostics };
  }
  if (root.name !== 'policies') {
    diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_STRUCTURE, `a policy document starts with <policies> (or <fragment>), not <${root.name}>`, { file, offset: root.offset }));
    return { document: undefined, diagnostics };
  }
  for (const a of root.attributes) {
    if (!a.name.startsWith('xmlns')) diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_UNKNOWN_ATTRIBUTE, `<policies> takes no attribute '${a.name}'`, { file, offset: a.offset }));
  }
  if (root.text) diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_STRUCTURE, '<policies> holds sections, not text', { file, offset: root.textOffset }));
  for (const sectionEl of root.children) {
    const section = SECTIONS.find((s) => s === sectionEl.name);
    if (!section) {
      diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_STRUCTURE, `<policies> holds the sections inbound, backend, outbound and on-error, not <${sectionEl.name}>`, { file, offset: sectionEl.offset }));
      continue;
    }
    if (sections[section]) {
      diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_STRUCTURE, `the section <${section}> appears twice`, { file, offset: sectionEl.offset }));
      continue;
    }
    sections[section] = compileSection(sectionEl, section, file, diagnostics, options);
  }
  return { document: { scope: options.scope, file, sections }, diagnostics };
}

function compileSection(el: PolicyElement, section: Section, file: SourceFile, diagnostics: Diagnostic[], options: CompileDocumentOptions): SectionEntry[] {
  const cc = new CompileContext(file, diagnostics, options, options.scope, section);
  cc.checkAttributes(el, []);
  if (el.text) cc.error(PolicyCodes.GH_POLICY_STRUCTURE, `<${section}> holds policies, not text`, el.textOffset);
  const entries: SectionEntry[] = [];
  let seenBase = false;
  for (const c of el.children) {
    if (c.name === 'base') {
      cc.checkAttributes(c, []);
      if (seenBase) cc.error(PolicyCodes.GH_POLICY_DUPLICATE_BASE, `<${section}> holds <base/> more than once`, c.offset);
      else entries.push(BASE);
      seenBase = true;
      continue;
    }
    entries.push(...cc.compileChildren(el, [c], ''));
  }
  return entries;
}

/** The steps of each section after composition. */
export interface ComposedPipeline {
  readonly inbound: readonly PolicyStep[];
  readonly backend: readonly PolicyStep[];
  readonly outbound: readonly PolicyStep[];
  readonly 'on-error': readonly PolicyStep[];
}

/**
 * Composes scopes, broadest first (global, product, API, operation; absent scopes undefined):
 * each section is the narrowest document's section with <base/> replaced by the broader result.
 * A scope without a document, or a document without the section, inherits the broader section.
 */
export function composeScopes(documents: readonly (CompiledDocument | undefined)[]): ComposedPipeline {
  const out = {} as Record<Section, PolicyStep[]>;
  for (const s of SECTIONS) {
    let effective: PolicyStep[] = [];
    for (const doc of documents) {
      const entries = doc?.sections[s];
      if (!entries) continue;
      const next: PolicyStep[] = [];
      for (const e of entries) {
        if (e === BASE) next.push(...effective);
        else next.push(e);
      }
      effective = next;
    }
    out[s] = effective;
  }
  return out;
}

/** Azure's default global policy: forward the request in the backend section. */
export const DEFAULT_GLOBAL_POLICY = '<policies><inbound></inbound><backend><forward-request /></backend><outbound></outbound><on-error></on-error></policies>';
