/**
 * TimeZoneInfo over the IANA database that Node carries (Intl), with the common Windows ids
 * (API Management's gateways run on Windows, so policies use ids like "W. Europe Standard Time").
 */
import { DotNetException } from '../errors.js';
import { CsObject, ex, type Runtime } from './core.js';
import { DateTime, DateTimeOffset, TimeSpan } from './datetime.js';

const WINDOWS: Record<string, string> = {
  'UTC': 'UTC', 'Coordinated Universal Time': 'UTC', 'GMT Standard Time': 'Europe/London', 'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'W. Europe Standard Time': 'Europe/Berlin', 'Central Europe Standard Time': 'Europe/Budapest', 'Romance Standard Time': 'Europe/Paris',
  'Central European Standard Time': 'Europe/Warsaw', 'E. Europe Standard Time': 'Europe/Chisinau', 'FLE Standard Time': 'Europe/Kiev',
  'GTB Standard Time': 'Europe/Bucharest', 'Russian Standard Time': 'Europe/Moscow', 'Turkey Standard Time': 'Europe/Istanbul',
  'Israel Standard Time': 'Asia/Jerusalem', 'South Africa Standard Time': 'Africa/Johannesburg', 'Arabian Standard Time': 'Asia/Dubai',
  'India Standard Time': 'Asia/Kolkata', 'China Standard Time': 'Asia/Shanghai', 'Singapore Standard Time': 'Asia/Singapore',
  'Tokyo Standard Time': 'Asia/Tokyo', 'Korea Standard Time': 'Asia/Seoul', 'AUS Eastern Standard Time': 'Australia/Sydney',
  'E. Australia Standard Time': 'Australia/Brisbane', 'New Zealand Standard Time': 'Pacific/Auckland', 'Eastern Standard Time': 'America/New_York',
  'Central Standard Time': 'America/Chicago', 'Mountain Standard Time': 'America/Denver', 'US Mountain Standard Time': 'America/Phoenix',
  'Pacific Standard Time': 'America/Los_Angeles', 'Alaskan Standard Time': 'America/Anchorage', 'Hawaiian Standard Time': 'Pacific/Honolulu',
  'Atlantic Standard Time': 'America/Halifax', 'E. South America Standard Time': 'America/Sao_Paulo', 'Argentina Standard Time': 'America/Buenos_Aires',
  'Canada Central Standard Time': 'America/Regina', 'Mexico Standard Time': 'America/Mexico_City', 'SA Pacific Standard Time': 'America/Bogota',
};
Object.setPrototypeOf(WINDOWS, null);

export class TimeZoneInfoObj extends CsObject {
  private readonly fmt: Intl.DateTimeFormat;
  constructor(readonly Id: string, private readonly iana: string) {
    super();
    this.fmt = new Intl.DateTimeFormat('en-US', { timeZone: iana, timeZoneName: 'longOffset' });
  }
  get $type(): string {
    return 'System.TimeZoneInfo';
  }
  /** Minutes east of UTC at the instant ms. */
  offsetAt(ms: number): number {
    const part = this.fmt.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  }
  get DisplayName(): string {
    return this.Id;
  }
  get StandardName(): string {
    return this.Id;
  }
  get DaylightName(): string {
    return this.Id;
  }
  get BaseUtcOffset(): TimeSpan {
    const y = new Date().getUTCFullYear();
    return new TimeSpan(Math.min(this.offsetAt(Date.UTC(y, 0, 1)), this.offsetAt(Date.UTC(y, 6, 1))) * 60000);
  }
  get SupportsDaylightSavingTime(): boolean {
    const y = new Date().getUTCFullYear();
    return this.offsetAt(Date.UTC(y, 0, 1)) !== this.offsetAt(Date.UTC(y, 6, 1));
  }
  GetUtcOffset(v: unknown): TimeSpan {
    return new TimeSpan(this.offsetAt(utcMs(v, this)) * 60000);
  }
  IsDaylightSavingTime(v: unknown): boolean {
    return this.GetUtcOffset(v).ms !== this.BaseUtcOffset.ms;
  }
  override ToString(): string {
    return this.Id;
  }
}

/** The UTC instant of a DateTime (Unspecified is taken as local time in the zone) or a DateTimeOffset. */
function utcMs(v: unknown, tz: TimeZoneInfoObj): number {
  if (v instanceof DateTimeOffset) return v.ms;
  if (v instanceof DateTime) {
    if (v.kind !== 'Unspecified') return v.ms;
    const guess = v.ms - tz.offsetAt(v.ms) * 60000;
    return v.ms - tz.offsetAt(guess) * 60000;
  }
  throw ex.argNull('dateTime');
}

function find(id: unknown): TimeZoneInfoObj {
  if (id === null || id === undefined) throw ex.argNull('id');
  const s = String(id);
  const iana = WINDOWS[s] ?? s;
  try {
    return new TimeZoneInfoObj(s, iana);
  } catch {
    throw new DotNetException('System.TimeZoneNotFoundException', `The time zone ID '${s}' was not found on the local computer.`);
  }
}

function convert(v: unknown, tz: TimeZoneInfoObj): unknown {
  if (v instanceof DateTimeOffset) return new DateTimeOffset(v.ms, tz.offsetAt(v.ms));
  if (v instanceof DateTime) {
    // Utc and Local (the gateway's local zone is UTC) and Unspecified (treated as local) are all UTC here
    return new DateTime(v.ms + tz.offsetAt(v.ms) * 60000, 'Unspecified');
  }
  throw ex.argNull('dateTime');
}

export const TIMEZONE_TYPE = {
  staticProps: {
    Utc: () => new TimeZoneInfoObj('UTC', 'UTC'),
    Local: () => new TimeZoneInfoObj('UTC', 'UTC'),
  },
  staticMethods: {
    FindSystemTimeZoneById: (_rt: Runtime, a: unknown[]) => find(a[0]),
    ConvertTimeFromUtc: (_rt: Runtime, a: unknown[]) => {
      const d = a[0] as DateTime;
      return new DateTime(d.ms + (a[1] as TimeZoneInfoObj).offsetAt(d.ms) * 60000, 'Unspecified');
    },
    ConvertTimeToUtc: (_rt: Runtime, a: unknown[]) => new DateTime(utcMs(a[0], (a[1] as TimeZoneInfoObj | undefined) ?? new TimeZoneInfoObj('UTC', 'UTC')), 'Utc'),
    ConvertTime: (_rt: Runtime, a: unknown[]) => convert(a[0], a[a.length - 1] as TimeZoneInfoObj),
    ConvertTimeBySystemTimeZoneId: (_rt: Runtime, a: unknown[]) => convert(a[0], find(a[a.length - 1])),
  },
};
