/**
 * System.DateTime, DateTimeOffset and TimeSpan. Instants are milliseconds since the Unix epoch
 * (fractional for sub-millisecond ticks). The gateway's local time zone is UTC, as API Management's
 * gateways run in UTC. Formatting is en-US (M/d/yyyy h:mm:ss tt), as the gateway formats.
 */
import { CsObject, EnumValue, ex, type Runtime } from './core.js';
import { OutRef } from './types.js';

const EPOCH_TICKS = 621355968000000000;
const MS_PER_DAY = 86400000;
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999.9999;

export type Kind = 'Unspecified' | 'Utc' | 'Local';

function checkRange(ms: number): number {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) throw ex.argRange('value', 'The added or subtracted value results in an un-representable DateTime.');
  return ms;
}

function pad(n: number, w: number): string {
  return String(Math.abs(Math.trunc(n))).padStart(w, '0');
}

/** Formats the wall-clock fields of `ms` (already shifted to the offset) with a .NET custom format. */
function formatFields(ms: number, fmt: string, offsetMin: number | undefined, kind: Kind | undefined): string {
  const d = new Date(Math.floor(ms));
  const frac = ms - Math.floor(ms / 1000) * 1000; // ms incl. sub-ms
  const Y = d.getUTCFullYear();
  const M = d.getUTCMonth() + 1;
  const D = d.getUTCDate();
  const h = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  const fraction7 = String(Math.round(frac * 10000)).padStart(7, '0').slice(0, 7);
  let out = '';
  let i = 0;
  const offsetText = (withColon: boolean, full: boolean): string => {
    const o = offsetMin ?? 0;
    const sign = o < 0 ? '-' : '+';
    const hh = Math.floor(Math.abs(o) / 60);
    const mm = Math.abs(o) % 60;
    if (!full) return `${sign}${withColon ? pad(hh, 2) : hh}`;
    return `${sign}${pad(hh, 2)}:${pad(mm, 2)}`;
  };
  while (i < fmt.length) {
    const c = fmt[i]!;
    let n = 1;
    while (fmt[i + n] === c) n++;
    switch (c) {
      case 'y':
        out += n === 1 ? String(Y % 100) : n === 2 ? pad(Y % 100, 2) : pad(Y, n);
        break;
      case 'M':
        out += n === 1 ? String(M) : n === 2 ? pad(M, 2) : n === 3 ? MONTH_NAMES[M - 1]!.slice(0, 3) : MONTH_NAMES[M - 1]!;
        break;
      case 'd':
        out += n === 1 ? String(D) : n === 2 ? pad(D, 2) : n === 3 ? DAY_NAMES[d.getUTCDay()]!.slice(0, 3) : DAY_NAMES[d.getUTCDay()]!;
        break;
      case 'H':
        out += n === 1 ? String(h) : pad(h, 2);
        break;
      case 'h': {
        const h12 = h % 12 === 0 ? 12 : h % 12;
        out += n === 1 ? String(h12) : pad(h12, 2);
        break;
      }
      case 'm':
        out += n === 1 ? String(mi) : pad(mi, 2);
        break;
      case 's':
        out += n === 1 ? String(s) : pad(s, 2);
        break;
      case 'f':
        out += fraction7.slice(0, Math.min(n, 7));
        break;
      case 'F': {
        const f = fraction7.slice(0, Math.min(n, 7)).replace(/0+$/, '');
        if (!f && out.endsWith('.')) out = out.slice(0, -1);
        out += f;
        break;
      }
      case 't':
        out += n === 1 ? (h < 12 ? 'A' : 'P') : h < 12 ? 'AM' : 'PM';
        break;
      case 'z':
        out += n >= 3 ? offsetText(true, true) : offsetText(n === 2, false);
        break;
      case 'K':
        out += offsetMin !== undefined ? offsetText(true, true) : kind === 'Utc' ? 'Z' : kind === 'Local' ? '+00:00' : '';
        break;
      case "'":
      case '"': {
        const end = fmt.indexOf(c, i + 1);
        out += fmt.slice(i + 1, end < 0 ? fmt.length : end);
        i = end < 0 ? fmt.length : end + 1;
        continue;
      }
      case '\\':
        out += fmt[i + 1] ?? '';
        i += 2;
        continue;
      case '%':
        i += 1;
        continue;
      default:
        out += c.repeat(n);
    }
    i += n;
  }
  return out;
}

const STANDARD: Record<string, string> = {
  d: 'M/d/yyyy', D: 'dddd, MMMM d, yyyy', t: 'h:mm tt', T: 'h:mm:ss tt', f: 'dddd, MMMM d, yyyy h:mm tt', F: 'dddd, MMMM d, yyyy h:mm:ss tt',
  g: 'M/d/yyyy h:mm tt', G: 'M/d/yyyy h:mm:ss tt', M: 'MMMM d', m: 'MMMM d', Y: 'MMMM yyyy', y: 'MMMM yyyy', s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
};

function parseInstant(s: unknown): { ms: number; offset: number | undefined } {
  if (s === null || s === undefined) throw ex.argNull('s');
  const t = String(s).trim();
  // ISO 8601
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (m) {
    const frac = m[7] ? Number(('0.' + m[7])) * 1000 : 0;
    let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) + frac;
    let offset: number | undefined;
    if (m[8]) {
      if (m[8].toUpperCase() === 'Z') offset = 0;
      else {
        const sign = m[8][0] === '-' ? -1 : 1;
        const digits = m[8].slice(1).replace(':', '');
        offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
      }
      ms -= offset * 60000;
    }
    if (Number.isNaN(ms) || Number(m[2]) > 12 || Number(m[3]) > 31) throw ex.format(`String '${t}' was not recognized as a valid DateTime.`);
    return { ms, offset };
  }
  // M/d/yyyy [h:mm[:ss] [AM|PM]]
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$/i.exec(t);
  if (m) {
    let h = Number(m[4] ?? 0);
    if (m[7]) {
      if (m[7].toUpperCase() === 'PM' && h < 12) h += 12;
      if (m[7].toUpperCase() === 'AM' && h === 12) h = 0;
    }
    return { ms: Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0)), offset: undefined };
  }
  const p = Date.parse(t);
  if (!Number.isNaN(p) && /[a-z]{3}/i.test(t)) return { ms: p, offset: /GMT|UTC|Z$|[+-]\d{4}$/.test(t) ? 0 : undefined };
  throw ex.format(`String '${t}' was not recognized as a valid DateTime.`);
}

export class TimeSpan extends CsObject {
  constructor(readonly ms: number) {
    super();
  }
  get $type(): string {
    return 'System.TimeSpan';
  }
  get Ticks(): number {
    return Math.round(this.ms * 10000);
  }
  get Days(): number {
    return Math.trunc(this.ms / MS_PER_DAY);
  }
  get Hours(): number {
    return Math.trunc(this.ms / 3600000) % 24;
  }
  get Minutes(): number {
    return Math.trunc(this.ms / 60000) % 60;
  }
  get Seconds(): number {
    return Math.trunc(this.ms / 1000) % 60;
  }
  get Milliseconds(): number {
    return Math.trunc(this.ms) % 1000;
  }
  get TotalDays(): number {
    return this.ms / MS_PER_DAY;
  }
  get TotalHours(): number {
    return this.ms / 3600000;
  }
  get TotalMinutes(): number {
    return this.ms / 60000;
  }
  get TotalSeconds(): number {
    return this.ms / 1000;
  }
  get TotalMilliseconds(): number {
    return this.ms;
  }
  Add(o: TimeSpan): TimeSpan {
    return new TimeSpan(this.ms + o.ms);
  }
  Subtract(o: TimeSpan): TimeSpan {
    return new TimeSpan(this.ms - o.ms);
  }
  Negate(): TimeSpan {
    return new TimeSpan(-this.ms);
  }
  Duration(): TimeSpan {
    return new TimeSpan(Math.abs(this.ms));
  }
  $add(o: unknown): unknown {
    if (o instanceof TimeSpan) return this.Add(o);
    throw ex.invalidCast(o, 'System.TimeSpan');
  }
  $sub(o: unknown): unknown {
    if (o instanceof TimeSpan) return this.Subtract(o);
    throw ex.invalidCast(o, 'System.TimeSpan');
  }
  CompareTo(o: unknown): number {
    if (!(o instanceof TimeSpan)) return 1;
    return Math.sign(this.ms - o.ms);
  }
  $eq(o: unknown): boolean {
    return o instanceof TimeSpan && o.ms === this.ms;
  }
  override Equals(o: unknown): boolean {
    return this.$eq(o);
  }
  override ToString(format?: string): string {
    const neg = this.ms < 0;
    const a = Math.abs(this.ms);
    const days = Math.floor(a / MS_PER_DAY);
    const rest = a - days * MS_PER_DAY;
    const h = Math.floor(rest / 3600000);
    const m = Math.floor((rest % 3600000) / 60000);
    const s = Math.floor((rest % 60000) / 1000);
    const ticks = Math.round((rest % 1000) * 10000);
    if (format === 'c' || format === undefined || format === 't' || format === 'T') {
      return `${neg ? '-' : ''}${days ? days + '.' : ''}${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${ticks ? '.' + pad(ticks, 7) : ''}`;
    }
    return formatFields(Math.abs(this.ms), format.replace(/hh/g, 'HH'), undefined, undefined);
  }
}

export class DateTime extends CsObject {
  constructor(readonly ms: number, readonly kind: Kind = 'Unspecified') {
    super();
    checkRange(ms);
  }
  get $type(): string {
    return 'System.DateTime';
  }
  private with(ms: number): DateTime {
    return new DateTime(checkRange(ms), this.kind);
  }
  private get d(): Date {
    return new Date(Math.floor(this.ms));
  }
  get Year(): number {
    return this.d.getUTCFullYear();
  }
  get Month(): number {
    return this.d.getUTCMonth() + 1;
  }
  get Day(): number {
    return this.d.getUTCDate();
  }
  get Hour(): number {
    return this.d.getUTCHours();
  }
  get Minute(): number {
    return this.d.getUTCMinutes();
  }
  get Second(): number {
    return this.d.getUTCSeconds();
  }
  get Millisecond(): number {
    return this.d.getUTCMilliseconds();
  }
  get Ticks(): number {
    return Math.round(this.ms * 10000) + EPOCH_TICKS;
  }
  get Kind(): EnumValue {
    return new EnumValue('System.DateTimeKind', this.kind, this.kind === 'Unspecified' ? 0 : this.kind === 'Utc' ? 1 : 2);
  }
  get DayOfWeek(): EnumValue {
    const n = this.d.getUTCDay();
    return new EnumValue('System.DayOfWeek', DAY_NAMES[n]!, n);
  }
  get DayOfYear(): number {
    return Math.floor((Math.floor(this.ms) - Date.UTC(this.Year, 0, 1)) / MS_PER_DAY) + 1;
  }
  get Date(): DateTime {
    return new DateTime(Math.floor(this.ms / MS_PER_DAY) * MS_PER_DAY, this.kind);
  }
  get TimeOfDay(): TimeSpan {
    return new TimeSpan(this.ms - Math.floor(this.ms / MS_PER_DAY) * MS_PER_DAY);
  }
  AddTicks(n: number): DateTime {
    return this.with(this.ms + Number(n) / 10000);
  }
  AddMilliseconds(n: number): DateTime {
    return this.with(this.ms + Number(n));
  }
  AddSeconds(n: number): DateTime {
    return this.with(this.ms + Number(n) * 1000);
  }
  AddMinutes(n: number): DateTime {
    return this.with(this.ms + Number(n) * 60000);
  }
  AddHours(n: number): DateTime {
    return this.with(this.ms + Number(n) * 3600000);
  }
  AddDays(n: number): DateTime {
    return this.with(this.ms + Number(n) * MS_PER_DAY);
  }
  AddMonths(n: number): DateTime {
    return this.with(addMonths(this.ms, Number(n)));
  }
  AddYears(n: number): DateTime {
    return this.with(addMonths(this.ms, Number(n) * 12));
  }
  Add(t: TimeSpan): DateTime {
    return this.with(this.ms + t.ms);
  }
  Subtract(o: unknown): unknown {
    if (o instanceof DateTime) return new TimeSpan(this.ms - o.ms);
    if (o instanceof TimeSpan) return this.with(this.ms - o.ms);
    throw ex.invalidCast(o, 'System.DateTime');
  }
  $add(o: unknown): unknown {
    if (o instanceof TimeSpan) return this.Add(o);
    throw ex.invalidCast(o, 'System.TimeSpan');
  }
  $sub(o: unknown): unknown {
    return this.Subtract(o);
  }
  ToUniversalTime(): DateTime {
    return new DateTime(this.ms, 'Utc');
  }
  ToLocalTime(): DateTime {
    return new DateTime(this.ms, 'Local');
  }
  IsDaylightSavingTime(): boolean {
    return false;
  }
  CompareTo(o: unknown): number {
    if (!(o instanceof DateTime)) return 1;
    return Math.sign(this.ms - o.ms);
  }
  $eq(o: unknown): boolean {
    return o instanceof DateTime && o.ms === this.ms;
  }
  override Equals(o: unknown): boolean {
    return this.$eq(o);
  }
  override GetHashCode(): number {
    return this.ms | 0;
  }
  override ToString(format?: unknown): string {
    const f = typeof format === 'string' && format !== '' ? (STANDARD[format] ?? format) : 'M/d/yyyy h:mm:ss tt';
    if (format === 'u' || format === 'r' || format === 'R') return formatFields(this.ms, f, undefined, 'Utc');
    return formatFields(this.ms, f, undefined, this.kind);
  }
  ToShortDateString(): string {
    return this.ToString('d');
  }
  ToLongDateString(): string {
    return this.ToString('D');
  }
  ToShortTimeString(): string {
    return this.ToString('t');
  }
  ToLongTimeString(): string {
    return this.ToString('T');
  }
  ToFileTimeUtc(): number {
    return (this.ms + 11644473600000) * 10000;
  }
  ToBinary(): number {
    return this.Ticks;
  }
}

function addMonths(ms: number, n: number): number {
  const d = new Date(Math.floor(ms));
  const frac = ms - Math.floor(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + Math.trunc(n);
  const target = new Date(Date.UTC(y, m, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const dim = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), dim));
  return target.getTime() + frac;
}

export class DateTimeOffset extends CsObject {
  /** ms: the UTC instant; offset: minutes east of UTC. */
  constructor(readonly ms: number, readonly offset: number = 0) {
    super();
    checkRange(ms);
  }
  get $type(): string {
    return 'System.DateTimeOffset';
  }
  private get local(): DateTime {
    return new DateTime(this.ms + this.offset * 60000, 'Unspecified');
  }
  private with(ms: number): DateTimeOffset {
    return new DateTimeOffset(checkRange(ms), this.offset);
  }
  get Year(): number {
    return this.local.Year;
  }
  get Month(): number {
    return this.local.Month;
  }
  get Day(): number {
    return this.local.Day;
  }
  get Hour(): number {
    return this.local.Hour;
  }
  get Minute(): number {
    return this.local.Minute;
  }
  get Second(): number {
    return this.local.Second;
  }
  get Millisecond(): number {
    return this.local.Millisecond;
  }
  get DayOfWeek(): EnumValue {
    return this.local.DayOfWeek;
  }
  get DayOfYear(): number {
    return this.local.DayOfYear;
  }
  get Ticks(): number {
    return this.local.Ticks;
  }
  get UtcTicks(): number {
    return new DateTime(this.ms).Ticks;
  }
  get Offset(): TimeSpan {
    return new TimeSpan(this.offset * 60000);
  }
  get DateTime(): DateTime {
    return this.local;
  }
  get UtcDateTime(): DateTime {
    return new DateTime(this.ms, 'Utc');
  }
  get LocalDateTime(): DateTime {
    return new DateTime(this.ms, 'Local');
  }
  get Date(): DateTime {
    return this.local.Date;
  }
  get TimeOfDay(): TimeSpan {
    return this.local.TimeOfDay;
  }
  ToUnixTimeSeconds(): number {
    return Math.floor(this.ms / 1000);
  }
  ToUnixTimeMilliseconds(): number {
    return Math.floor(this.ms);
  }
  ToUniversalTime(): DateTimeOffset {
    return new DateTimeOffset(this.ms, 0);
  }
  ToLocalTime(): DateTimeOffset {
    return new DateTimeOffset(this.ms, 0);
  }
  ToOffset(t: TimeSpan): DateTimeOffset {
    return new DateTimeOffset(this.ms, Math.round(t.ms / 60000));
  }
  AddTicks(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n) / 10000);
  }
  AddMilliseconds(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n));
  }
  AddSeconds(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n) * 1000);
  }
  AddMinutes(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n) * 60000);
  }
  AddHours(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n) * 3600000);
  }
  AddDays(n: number): DateTimeOffset {
    return this.with(this.ms + Number(n) * MS_PER_DAY);
  }
  AddMonths(n: number): DateTimeOffset {
    return this.with(addMonths(this.ms + this.offset * 60000, Number(n)) - this.offset * 60000);
  }
  AddYears(n: number): DateTimeOffset {
    return this.AddMonths(Number(n) * 12);
  }
  Add(t: TimeSpan): DateTimeOffset {
    return this.with(this.ms + t.ms);
  }
  Subtract(o: unknown): unknown {
    if (o instanceof DateTimeOffset) return new TimeSpan(this.ms - o.ms);
    if (o instanceof TimeSpan) return this.with(this.ms - o.ms);
    throw ex.invalidCast(o, 'System.DateTimeOffset');
  }
  $add(o: unknown): unknown {
    if (o instanceof TimeSpan) return this.Add(o);
    throw ex.invalidCast(o, 'System.TimeSpan');
  }
  $sub(o: unknown): unknown {
    return this.Subtract(o);
  }
  CompareTo(o: unknown): number {
    if (!(o instanceof DateTimeOffset)) return 1;
    return Math.sign(this.ms - o.ms);
  }
  $eq(o: unknown): boolean {
    return o instanceof DateTimeOffset && o.ms === this.ms;
  }
  override Equals(o: unknown): boolean {
    return this.$eq(o);
  }
  override ToString(format?: unknown): string {
    const f = typeof format === 'string' && format !== '' ? (STANDARD[format] ?? format) : 'M/d/yyyy h:mm:ss tt zzz';
    if (format === 'u' || format === 'r' || format === 'R') return formatFields(this.ms, f, 0, 'Utc');
    return formatFields(this.ms + this.offset * 60000, f, this.offset, undefined);
  }
}

function now(rt: Runtime): number {
  return rt.host.now().getTime();
}

function dateFromArgs(a: unknown[], kind: Kind): DateTime {
  if (a.length === 1) return new DateTime((Number(a[0]) - EPOCH_TICKS) / 10000, kind);
  const [y, mo, d, h = 0, mi = 0, s = 0, ms = 0] = a.map(Number);
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    throw ex.argRange('month', 'Year, Month, and Day parameters describe an un-representable DateTime.');
  }
  const t = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
  const dt = new Date(t);
  if (dt.getUTCDate() !== d) throw ex.argRange('day', 'Year, Month, and Day parameters describe an un-representable DateTime.');
  return new DateTime(y! < 100 ? t - Date.UTC(1900 + y!, 0, 1) + Date.UTC(y!, 0, 1) : t, kind);
}

export const DATETIME_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => {
    let kind: Kind = 'Unspecified';
    const last = a[a.length - 1];
    if (last instanceof EnumValue) {
      kind = last.name as Kind;
      a = a.slice(0, -1);
    }
    if (a.length === 0) return new DateTime(MIN_MS);
    return dateFromArgs(a, kind);
  },
  staticProps: {
    Now: (rt: Runtime) => new DateTime(now(rt), 'Local'),
    UtcNow: (rt: Runtime) => new DateTime(now(rt), 'Utc'),
    Today: (rt: Runtime) => new DateTime(Math.floor(now(rt) / MS_PER_DAY) * MS_PER_DAY, 'Local'),
    MinValue: () => new DateTime(MIN_MS),
    MaxValue: () => new DateTime(MAX_MS),
    UnixEpoch: () => new DateTime(0, 'Utc'),
  },
  staticMethods: {
    Parse: (_rt: Runtime, a: unknown[]) => {
      const p = parseInstant(a[0]);
      return new DateTime(p.ms, p.offset === undefined ? 'Unspecified' : 'Local');
    },
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        const p = parseInstant(a[0]);
        out?.set(new DateTime(p.ms, p.offset === undefined ? 'Unspecified' : 'Local'));
        return true;
      } catch {
        out?.set(new DateTime(MIN_MS));
        return false;
      }
    },
    ParseExact: (_rt: Runtime, a: unknown[]) => {
      const p = parseInstant(a[0]);
      return new DateTime(p.ms, p.offset === undefined ? 'Unspecified' : 'Local');
    },
    DaysInMonth: (_rt: Runtime, a: unknown[]) => new Date(Date.UTC(Number(a[0]), Number(a[1]), 0)).getUTCDate(),
    IsLeapYear: (_rt: Runtime, a: unknown[]) => {
      const y = Number(a[0]);
      return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    },
    SpecifyKind: (_rt: Runtime, a: unknown[]) => new DateTime((a[0] as DateTime).ms, (a[1] as EnumValue).name as Kind),
    FromFileTimeUtc: (_rt: Runtime, a: unknown[]) => new DateTime(Number(a[0]) / 10000 - 11644473600000, 'Utc'),
    Compare: (_rt: Runtime, a: unknown[]) => (a[0] as DateTime).CompareTo(a[1]),
  },
};

export const DATETIMEOFFSET_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => {
    if (a[0] instanceof DateTime) {
      const dt = a[0];
      const off = a[1] instanceof TimeSpan ? Math.round(a[1].ms / 60000) : 0;
      return new DateTimeOffset(dt.ms - off * 60000, off);
    }
    const last = a[a.length - 1];
    const off = last instanceof TimeSpan ? Math.round(last.ms / 60000) : 0;
    const fields = a.filter((x) => typeof x === 'number');
    if (fields.length === 1) return new DateTimeOffset((Number(fields[0]) - EPOCH_TICKS) / 10000 - off * 60000, off);
    const dt = dateFromArgs(fields, 'Unspecified');
    return new DateTimeOffset(dt.ms - off * 60000, off);
  },
  staticProps: {
    Now: (rt: Runtime) => new DateTimeOffset(now(rt), 0),
    UtcNow: (rt: Runtime) => new DateTimeOffset(now(rt), 0),
    MinValue: () => new DateTimeOffset(MIN_MS),
    MaxValue: () => new DateTimeOffset(MAX_MS),
    UnixEpoch: () => new DateTimeOffset(0),
  },
  staticMethods: {
    Parse: (_rt: Runtime, a: unknown[]) => {
      const p = parseInstant(a[0]);
      return new DateTimeOffset(p.ms, p.offset ?? 0);
    },
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        const p = parseInstant(a[0]);
        out?.set(new DateTimeOffset(p.ms, p.offset ?? 0));
        return true;
      } catch {
        out?.set(new DateTimeOffset(MIN_MS));
        return false;
      }
    },
    FromUnixTimeSeconds: (_rt: Runtime, a: unknown[]) => new DateTimeOffset(Number(a[0]) * 1000, 0),
    FromUnixTimeMilliseconds: (_rt: Runtime, a: unknown[]) => new DateTimeOffset(Number(a[0]), 0),
    Compare: (_rt: Runtime, a: unknown[]) => (a[0] as DateTimeOffset).CompareTo(a[1]),
  },
};

function parseTimeSpan(s: unknown): TimeSpan {
  if (s === null || s === undefined) throw ex.argNull('input');
  const t = String(s).trim();
  const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(t) ?? /^(-)?(\d+)$/.exec(t);
  if (!m) throw ex.format(`String '${t}' was not recognized as a valid TimeSpan.`);
  if (m.length === 3) return new TimeSpan((m[1] ? -1 : 1) * Number(m[2]) * MS_PER_DAY);
  const ms = Number(m[2] ?? 0) * MS_PER_DAY + Number(m[3]) * 3600000 + Number(m[4]) * 60000 + Number(m[5] ?? 0) * 1000 + (m[6] ? Number('0.' + m[6]) * 1000 : 0);
  return new TimeSpan(m[1] ? -ms : ms);
}

export const TIMESPAN_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => {
    const n = a.map(Number);
    if (n.length === 1) return new TimeSpan(n[0]! / 10000);
    if (n.length === 3) return new TimeSpan(n[0]! * 3600000 + n[1]! * 60000 + n[2]! * 1000);
    if (n.length >= 4) return new TimeSpan(n[0]! * MS_PER_DAY + n[1]! * 3600000 + n[2]! * 60000 + n[3]! * 1000 + (n[4] ?? 0));
    return new TimeSpan(0);
  },
  staticProps: {
    Zero: () => new TimeSpan(0),
    MaxValue: () => new TimeSpan(922337203685477.5807),
    MinValue: () => new TimeSpan(-922337203685477.5808),
    TicksPerSecond: () => 10000000,
    TicksPerMillisecond: () => 10000,
    TicksPerMinute: () => 600000000,
    TicksPerHour: () => 36000000000,
    TicksPerDay: () => 864000000000,
  },
  staticMethods: {
    FromDays: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0]) * MS_PER_DAY),
    FromHours: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0]) * 3600000),
    FromMinutes: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0]) * 60000),
    FromSeconds: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0]) * 1000),
    FromMilliseconds: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0])),
    FromTicks: (_rt: Runtime, a: unknown[]) => new TimeSpan(Number(a[0]) / 10000),
    Parse: (_rt: Runtime, a: unknown[]) => parseTimeSpan(a[0]),
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        out?.set(parseTimeSpan(a[0]));
        return true;
      } catch {
        out?.set(new TimeSpan(0));
        return false;
      }
    },
  },
};
Object.setPrototypeOf(STANDARD, null);
