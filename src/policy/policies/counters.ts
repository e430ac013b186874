/**
 * What the counting policies share (rate-limit, rate-limit-by-key, quota, quota-by-key): which
 * API or operation an `<api>`/`<operation>` child means, and when an increment must wait for the answer.
 */
import type { CompileContext } from '../compile.js';
import type { PolicyElement } from '../reader.js';

/**
 * Whether an `<api>` or `<operation>` child (name or id; "if both attributes are provided, id will
 * be used and name will be ignored") refers to the API or operation of the request.
 */
export function refersTo(want: { readonly name: string | undefined; readonly id: string | undefined }, got: { readonly id: string; readonly name: string } | undefined): boolean {
  if (!got) return false;
  if (want.id !== undefined) return got.id.toLowerCase().endsWith('/' + want.id.toLowerCase());
  return want.name !== undefined && got.name.toLowerCase() === want.name.toLowerCase();
}

/** An increment-condition or increment-count that reads the response is evaluated when the answer is known. */
export function readsResponse(el: PolicyElement, cc: CompileContext, names: readonly string[]): boolean {
  return names.some((n) => {
    const a = cc.attr(el, n);
    return a !== undefined && /\bResponse\b/.test(a.expression?.text ?? a.value);
  });
}
