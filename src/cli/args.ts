/**
 * Option parsing shared by commands: node:util parseArgs with Gatehouse's usage errors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GatehouseError } from '../core/errors.js';

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new GatehouseError('GH_USAGE', `${command}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}. Run 'gatehouse ${command} --help'.`);
  }
}

/** `--port-map 443=8443` (repeatable) into a Map of declared port → local port. */
export function parsePortMap(values: readonly string[] | undefined): Map<number, number> {
  const map = new Map<number, number>();
  for (const v of values ?? []) {
    const m = /^(\d{1,5})=(\d{1,5})$/.exec(v);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2]) : NaN;
    if (!m || from < 1 || from > 65535 || to < 0 || to > 65535) {
      throw new GatehouseError('GH_USAGE', `--port-map takes DECLARED=LOCAL with ports 1-65535 (LOCAL may be 0 for any free port), got '${v}'`);
    }
    map.set(from, to);
  }
  return map;
}
