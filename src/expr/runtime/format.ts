/**
 * .NET formatting: standard and custom numeric format strings, composite formatting
 * (string.Format, interpolation holes with alignment and format), invariant culture.
 */
import { CsObject, csToString, ex, formatDouble } from './core.js';

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fixed(n: number, digits: number): string {
  // toFixed is exact for the binary value, as .NET Core's formatting is
  if (Math.abs(n) >= 1e21) return n.toLocaleString('en-US', { useGrouping: false, minimumFractionDigits: digits, maximumFractionDigits: digits });
  return n.toFixed(Math.min(100, digits));
}

/** Formats a number with a .NET numeric format string; isInt says whether it is an integral type. */
export function formatNumber(n: number, format: string | undefined | null, isInt = Number.isInteger(n)): string {
  if (!format) return isInt && Number.isSafeInteger(n) ? String(n) : formatDouble(n);
  const m = /^([CcDdEeFfGgNnPpRrXx])(\d{0,2})$/.exec(format);
  if (m) {
    const kind = m[1]!;
    const p = m[2] === '' ? undefined : Number(m[2]);
    switch (kind.toUpperCase()) {
      case 'D': {
        if (!isInt) throw ex.format('Format specifier was invalid.');
        const s = Math.abs(n).toString().padStart(p ?? 0, '0');
        return n < 0 ? '-' + s : s;
      }
      case 'X': {
        if (!isInt) throw ex.format('Format specifier was invalid.');
        const v = n < 0 ? (n >>> 0) : n;
        const s = v.toString(16).padStart(p ?? 0, '0');
        return kind === 'X' ? s.toUpperCase() : s;
      }
      case 'F':
        return fixed(n, p ?? 2);
      case 'N': {
        const s = fixed(Math.abs(n), p ?? 2);
        const [i, d] = s.split('.');
        const out = group(i!) + (d ? '.' + d : '');
        return n < 0 ? '-' + out : out;
      }
      case 'C': {
        const s = fixed(Math.abs(n), p ?? 2);
        const [i, d] = s.split('.');
        // en-US, the gateway's culture: $1,234.50 and ($1,234.50) for negatives
        const out = '$' + group(i!) + (d ? '.' + d : '');
        return n < 0 ? '(' + out + ')' : out;
      }
      case 'P': {
        const s = fixed(Math.abs(n * 100), p ?? 2);
        const [i, d] = s.split('.');
        const out = group(i!) + (d ? '.' + d : '') + '%';
        return n < 0 ? '-' + out : out;
      }
      case 'E': {
        const s = n.toExponential(p ?? 6);
        const [mant, exp] = s.split('e');
        const sign = exp!.startsWith('-') ? '-' : '+';
        const out = `${mant}${kind === 'E' ? 'E' : 'e'}${sign}${exp!.replace(/^[+-]/, '').padStart(3, '0')}`;
        return out;
      }
      case 'G':
        if (p === undefined) return isInt ? String(n) : formatDouble(n);
        return formatDouble(Number(n.toPrecision(p)));
      case 'R':
        return formatDouble(n);
    }
  }
  return customNumber(n, format);
}

function customNumber(n: number, format: string): string {
  const sections = format.split(';');
  let f = sections[0]!;
  let v = n;
  if (n < 0 && sections[1] !== undefined && sections[1] !== '') {
    f = sections[1];
    v = -n;
  } else if (n === 0 && sections[2] !== undefined) f = sections[2];
  // split literal text around the numeric pattern
  const m = /^([^0#.,]*)([0#,]*)(?:\.([0#]*))?(.*)$/s.exec(f);
  if (!m) return formatDouble(n);
  const [, pre, intPat, decPat = '', post] = m;
  let value = v;
  let percent = false;
  if ((pre! + post!).includes('%')) {
    value *= 100;
    percent = true;
  }
  void percent;
  const decMin = (decPat.match(/0/g) ?? []).length;
  const decMax = decPat.length;
  let s = fixed(Math.abs(value), decMax);
  let [ip, dp = ''] = s.split('.');
  // trim optional decimals
  while (dp.length > decMin && dp.endsWith('0')) dp = dp.slice(0, -1);
  const intMin = (intPat!.replace(/,/g, '').match(/0/g) ?? []).length;
  if (ip === '0' && intMin === 0) ip = '';
  ip = ip!.padStart(intMin, '0');
  if (intPat!.includes(',') && /[0#],+[0#]/.test(intPat!)) ip = group(ip);
  s = ip + (dp ? '.' + dp : '');
  if (s === '') s = '0';
  const neg = value < 0 && sections.length < 2 && /[1-9]/.test(s) ? '-' : n < 0 && sections.length < 2 && /[1-9]/.test(s) ? '-' : '';
  return `${neg}${unquote(pre!)}${s}${unquote(post!)}`;
}

function unquote(s: string): string {
  return s.replace(/'([^']*)'|"([^"]*)"|\\(.)/g, (_m, a, b, c) => a ?? b ?? c);
}

/** Formats a value with an optional format string as IFormattable.ToString(format) would. */
export function formatValue(v: unknown, format: string | undefined): string {
  if (format === undefined || format === '') return csToString(v);
  if (typeof v === 'number') return formatNumber(v, format);
  if (v instanceof CsObject && typeof (v as unknown as { ToString: (f?: string) => string }).ToString === 'function') {
    return (v as unknown as { ToString: (f?: string) => string }).ToString(format);
  }
  return csToString(v);
}

export function align(s: string, width: number | undefined): string {
  if (width === undefined || !Number.isFinite(width)) return s;
  return width < 0 ? s.padEnd(-width) : s.padStart(width);
}

export function formatInterpolationHole(v: unknown, format: string | undefined, width: number | undefined): string {
  return align(formatValue(v, format), width);
}

/** string.Format(format, args…) with {index[,alignment][:format]} items and {{ }} escapes. */
export function compositeFormat(format: string, args: readonly unknown[]): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === '{') {
      if (format[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      const end = format.indexOf('}', i);
      if (end < 0) throw ex.format();
      const item = format.slice(i + 1, end);
      const m = /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?$/s.exec(item);
      if (!m) throw ex.format();
      const idx = Number(m[1]);
      if (idx >= args.length) throw ex.format('Index (zero based) must be greater than or equal to zero and less than the size of the argument list.');
      out += align(formatValue(args[idx], m[3]), m[2] === undefined ? undefined : Number(m[2]));
      i = end + 1;
      continue;
    }
    if (c === '}') {
      if (format[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw ex.format();
    }
    out += c;
    i++;
  }
  return out;
}
