/**
 * Where configuration data comes from: a file (with the path the user wrote), inline text, or
 * base64 inside a JSON/Bicep value. Loaders take a DataSource so that errors can name the origin.
 */
import { readFile } from 'node:fs/promises';
import { GatehouseError } from './errors.js';

export type DataSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'inline'; readonly text: string; readonly origin: string }
  | { readonly kind: 'base64'; readonly base64: string; readonly origin: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly origin: string };

/** How a data source is named in messages: the file path, or the JSON path it came from. */
export function describeSource(s: DataSource): string {
  return s.kind === 'file' ? s.path : s.origin;
}

export async function readSource(s: DataSource): Promise<Uint8Array> {
  switch (s.kind) {
    case 'file':
      try {
        return await readFile(s.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new GatehouseError(code === 'ENOENT' ? 'GH_FILE_NOT_FOUND' : 'GH_FILE_UNREADABLE', `${s.path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
      }
    case 'inline':
      return new TextEncoder().encode(s.text);
    case 'base64':
      return new Uint8Array(Buffer.from(s.base64, 'base64'));
    case 'bytes':
      return s.bytes;
  }
}
