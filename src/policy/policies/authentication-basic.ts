/** <authentication-basic username="" password=""/> (authentication-basic-policy.md): Basic credentials for the backend. */
import type { PolicyDefinition } from '../compile.js';

export const authenticationBasic: PolicyDefinition = {
  name: 'authentication-basic',
  sections: ['inbound'],
  attributes: ['username', 'password'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const username = cc.string(el, 'username', { required: true });
    const password = cc.string(el, 'password', { required: true });
    return {
      ...cc.meta(el),
      run(st) {
        if (!username || !password) return;
        st.ctx.request.headers.set('Authorization', basicCredentials(username.get(st.ctx), password.get(st.ctx)));
      },
    };
  },
};

/** The Authorization value for Basic credentials (RFC 7617, UTF-8). Also send-request's child. */
export function basicCredentials(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
