/**
 * <ip-filter action="allow|forbid"><address/>…<address-range from="" to=""/></ip-filter>
 * (ip-filter-policy.md): allows or forbids callers by IP address. A denied caller gets 403 with
 * the LastError reasons of the error-handling page.
 */
import { isIP } from 'node:net';
import type { PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure } from '../runtime.js';

/** An IP address as a bigint, with its family; undefined when it does not parse. */
export function ipValue(text: string): { family: 4 | 6; value: bigint } | undefined {
  const s = text.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const v = isIP(s);
  if (v === 4) return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n) };
  if (v === 6) {
    const [head, tail] = s.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return undefined;
}

export const ipFilter: PolicyDefinition = {
  name: 'ip-filter',
  sections: ['inbound'],
  attributes: ['action'],
  compile(el, cc) {
    cc.checkChildren(el, ['address', 'address-range']);
    if (!cc.attr(el, 'action')) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, "<ip-filter> needs the attribute 'action'", el.offset);
    const action = cc.choice(el, 'action', ['allow', 'forbid'] as const, 'allow');
    const addresses: PolicyValue<string>[] = [];
    const ranges: { from: PolicyValue<string>; to: PolicyValue<string> }[] = [];
    // Constant addresses are parsed here, once; expressions are evaluated and parsed per request.
    const parsed = (v: PolicyValue<string>) => (v.isConstant ? ipValue(v.constantValue ?? '') : undefined);
    for (const c of el.children) {
      if (c.name === 'address') {
        cc.checkAttributes(c, []);
        const v = cc.text(c);
        if (v.isConstant && !ipValue(v.constantValue ?? '')) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `'${v.constantValue}' is not an IP address`, c.textOffset);
        addresses.push(v);
      } else if (c.name === 'address-range') {
        cc.checkAttributes(c, ['from', 'to']);
        const from = cc.string(c, 'from', { required: true });
        const to = cc.string(c, 'to', { required: true });
        for (const v of [from, to]) if (v?.isConstant && !ipValue(v.constantValue ?? '')) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `'${v.constantValue}' is not an IP address`, c.offset);
        if (from && to) ranges.push({ from, to });
      }
    }
    if (addresses.length + ranges.length === 0) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<ip-filter> needs at least one <address> or <address-range>', el.offset);
    const addressList = addresses.map((v) => ({ v, ip: parsed(v) }));
    const rangeList = ranges.map((r) => ({ ...r, fromIp: parsed(r.from), toIp: parsed(r.to) }));
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        const a = action.get(ctx);
        const ip = ipValue(ctx.request.ipAddress);
        if (!ip) {
          if (a === 'allow') throw new PolicyFailure({ source: 'ip-filter', reason: 'FailedToParseCallerIP', message: 'Failed to establish IP address for the caller. Access denied.', status: 403, statusReason: 'Forbidden', logReason: 'ip_unparsable' });
          return;
        }
        let listed = false;
        for (const { v, ip: fixed } of addressList) {
          const x = fixed ?? (v.isConstant ? undefined : ipValue(v.get(ctx)));
          if (x && x.family === ip.family && x.value === ip.value) listed = true;
        }
        for (const r of rangeList) {
          const f = r.fromIp ?? (r.from.isConstant ? undefined : ipValue(r.from.get(ctx)));
          const t = r.toIp ?? (r.to.isConstant ? undefined : ipValue(r.to.get(ctx)));
          if (f && t && f.family === ip.family && ip.value >= f.value && ip.value <= t.value) listed = true;
        }
        if (a === 'allow' && !listed) {
          throw new PolicyFailure({ source: 'ip-filter', reason: 'CallerIpNotAllowed', message: `Caller IP address ${ctx.request.ipAddress} is not allowed. Access denied.`, status: 403, statusReason: 'Forbidden', logReason: 'ip_not_allowed' });
        }
        if (a === 'forbid' && listed) {
          throw new PolicyFailure({ source: 'ip-filter', reason: 'CallerIpBlocked', message: 'Caller IP address is blocked. Access denied.', status: 403, statusReason: 'Forbidden', logReason: 'ip_blocked' });
        }
      },
    };
  },
};
