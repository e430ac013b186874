/**
 * <cache-lookup-value key="" variable-name="" default-value="" caching-type=""/>,
 * <cache-store-value key="" value="" duration="" caching-type=""/> and
 * <cache-remove-value key="" caching-type=""/> (cache-*-value-policy.md): a key-value cache kept
 * by the gateway (the internal cache; an external cache is the same cache here).
 */
import type { PolicyDefinition } from '../compile.js';

const CACHING = ['internal', 'external', 'prefer-external'] as const;

export const cacheLookupValue: PolicyDefinition = {
  name: 'cache-lookup-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['key', 'variable-name', 'default-value', 'caching-type'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const key = cc.string(el, 'key', { required: true });
    const variable = cc.literal(el, 'variable-name', { required: true });
    const dflt = cc.raw(el, 'default-value');
    cc.choice(el, 'caching-type', CACHING, 'prefer-external');
    return {
      ...cc.meta(el),
      run(st) {
        if (!key || variable === undefined) return;
        const v = st.services.valueCache?.get(key.get(st.ctx), st.ctx.now().getTime());
        if (v !== undefined) st.ctx.variables.set(variable, v);
        else if (dflt) st.ctx.variables.set(variable, dflt.get(st.ctx));
        else st.ctx.variables.delete(variable);
      },
    };
  },
};

export const cacheStoreValue: PolicyDefinition = {
  name: 'cache-store-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['key', 'value', 'duration', 'caching-type'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const key = cc.string(el, 'key', { required: true });
    const value = cc.raw(el, 'value', { required: true });
    const duration = cc.integer(el, 'duration', { required: true, min: 1 });
    cc.choice(el, 'caching-type', CACHING, 'prefer-external');
    return {
      ...cc.meta(el),
      run(st) {
        if (!key || !value || !duration) return;
        st.services.valueCache?.set(key.get(st.ctx), value.get(st.ctx), duration.get(st.ctx), st.ctx.now().getTime());
      },
    };
  },
};

export const cacheRemoveValue: PolicyDefinition = {
  name: 'cache-remove-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['key', 'caching-type'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const key = cc.string(el, 'key', { required: true });
    cc.choice(el, 'caching-type', CACHING, 'prefer-external');
    return {
      ...cc.meta(el),
      run(st) {
        if (key) st.services.valueCache?.delete(key.get(st.ctx));
      },
    };
  },
};
