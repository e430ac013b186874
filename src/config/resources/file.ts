/**
 * A JSON file of resources as ARM shows them: one resource, an array of resources, or
 * `{"resources": [...]}` (the shape `az resource show` and exported templates use). Values are
 * taken literally: there are no template expressions here (ARM templates go through src/config/arm).
 */
import { readFile } from 'node:fs/promises';
import { DiagnosticBag } from '../../core/diagnostics.js';
import { defineCodes } from '../../core/errors.js';
import { SourceFile } from '../../core/source.js';
import { resourceIdOf, type ArmResource } from '../../model/resources.js';

export const ResourceFileCodes = defineCodes({
  GH_JSON_SYNTAX: 'A JSON file is not valid JSON.',
  GH_RESOURCE_SHAPE: 'A resource in a JSON file lacks its type or name, or the file holds no resources.',
});

/** True when the parsed JSON is an ARM deployment template rather than a list of resources. */
export function isArmTemplate(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  return (typeof o.$schema === 'string' && /deploymentTemplate/i.test(o.$schema)) || (typeof o.contentVersion === 'string' && 'resources' in o);
}

/** Parses JSON with a diagnostic that has line and column on a syntax error. */
export function parseJsonFile(file: SourceFile, diagnostics: DiagnosticBag): unknown {
  try {
    return JSON.parse(file.text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const offset = m ? Number(m[1]) : file.text.length;
    diagnostics.error(ResourceFileCodes.GH_JSON_SYNTAX, message.replace(/^JSON\.parse: /, '').replace(/ in JSON at position \d+.*$/, ''), { file, offset });
    return undefined;
  }
}

export function resourcesFromJson(json: unknown, file: SourceFile, diagnostics: DiagnosticBag): ArmResource[] {
  const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as { resources?: unknown }).resources) ? (json as { resources: unknown[] }).resources : [json];
  const out: ArmResource[] = [];
  list.forEach((r, i) => {
    const path = Array.isArray(json) ? `[${i}]` : list === (json as { resources?: unknown[] })?.resources ? `resources[${i}]` : '$';
    if (!r || typeof r !== 'object' || typeof (r as ArmResource).type !== 'string' || typeof (r as ArmResource).name !== 'string') {
      diagnostics.error(ResourceFileCodes.GH_RESOURCE_SHAPE, 'a resource needs a string "type" and "name"', { file: file.path, path });
      return;
    }
    const res = r as ArmResource;
    out.push({ ...res, id: typeof res.id === 'string' ? res.id : resourceIdOf(res.type, res.name) });
  });
  if (list.length === 0) diagnostics.error(ResourceFileCodes.GH_RESOURCE_SHAPE, 'the file holds no resources', { file: file.path });
  return out;
}

export async function loadResourceFile(path: string, diagnostics: DiagnosticBag): Promise<ArmResource[]> {
  const file = new SourceFile(path, await readFile(path, 'utf8'));
  const json = parseJsonFile(file, diagnostics);
  return json === undefined ? [] : resourcesFromJson(json, file, diagnostics);
}
