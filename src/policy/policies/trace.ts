/**
 * <trace source="" severity="verbose|information|error"><message/><metadata name="" value=""/></trace>
 * (trace-policy.md): writes a trace record. Gatehouse writes it to the gateway's log (debug level
 * for verbose) and keeps it on the request context.
 */
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';

export const trace: PolicyDefinition = {
  name: 'trace',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['source', 'severity'],
  compile(el, cc) {
    cc.checkChildren(el, ['message', 'metadata']);
    const source = cc.literal(el, 'source', { required: true }) ?? '';
    const severity = cc.choice(el, 'severity', ['verbose', 'information', 'error'] as const, 'verbose', { expressions: false });
    const messages = el.children.filter((c) => c.name === 'message');
    if (messages.length > 1) cc.error(PolicyCodes.GH_POLICY_STRUCTURE, '<trace> takes one <message>', messages[1]!.offset);
    // The older form puts the message in the element's text.
    if (messages.length === 0 && !el.text && !el.textExpression) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<trace> needs a <message>', el.offset);
    const message = messages[0] ? cc.text(messages[0]) : cc.text(el);
    const metadata = el.children
      .filter((c) => c.name === 'metadata')
      .map((c) => {
        cc.checkAttributes(c, ['name', 'value']);
        return { name: cc.literal(c, 'name', { required: true }) ?? '', value: cc.string(c, 'value', { required: true }) };
      });
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        let text = message ? message.get(ctx) : '';
        if (metadata.length) text += ` ${JSON.stringify(Object.fromEntries(metadata.map((m) => [m.name, m.value?.get(ctx) ?? ''])))}`;
        ctx.trace(source, text, severity.get(ctx));
      },
    };
  },
};
