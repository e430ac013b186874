/**
 * <include-fragment fragment-id=""/> (policy-fragments.md): the statements of a policy fragment,
 * inserted as-is where the element stands; compiled at load in the including section and scope.
 * A fragment is <fragment>…</fragment>, holds no sections or <base/>, and includes no fragment.
 */
import { CompileContext, type PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { runSteps } from '../pipeline.js';
import { readPolicyXml } from '../reader.js';

export const includeFragment: PolicyDefinition = {
  name: 'include-fragment',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['fragment-id'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const id = cc.literal(el, 'fragment-id', { required: true });
    if (id === undefined) return undefined;
    if (cc.inFragment) {
      cc.error(PolicyCodes.GH_POLICY_STRUCTURE, 'a policy fragment cannot include another fragment', el.offset);
      return undefined;
    }
    const fragments = cc.options.fragments;
    const fragment = fragments ? (fragments.get(id) ?? [...fragments].find(([k]) => k.toLowerCase() === id.toLowerCase())?.[1]) : undefined;
    if (!fragment) {
      if (!fragments && cc.options.mode === 'lint') cc.report('warning', PolicyCodes.GH_POLICY_REFERENCE, `fragment '${id}' is not known here; its statements are not checked`, el.offset);
      else cc.error(PolicyCodes.GH_POLICY_REFERENCE, `fragment '${id}' is not declared (Microsoft.ApiManagement/service/policyFragments)`, el.offset);
      return undefined;
    }
    const read = readPolicyXml(fragment.file, fragment.text, cc.options.namedValues ? { namedValues: cc.options.namedValues } : {});
    cc.diagnostics.push(...read.diagnostics);
    const root = read.root;
    if (!root) return undefined;
    const fc = new CompileContext(read.file, cc.diagnostics, cc.options, cc.scope, cc.section);
    fc.inFragment = true;
    if (root.name !== 'fragment') {
      fc.error(PolicyCodes.GH_POLICY_STRUCTURE, `a policy fragment is <fragment>…</fragment>, not <${root.name}>`, root.offset);
      return undefined;
    }
    const steps = fc.compileChildren(root, root.children, cc.below(''));
    return { ...cc.meta(el), run: (st) => runSteps(steps, st) };
  },
};
