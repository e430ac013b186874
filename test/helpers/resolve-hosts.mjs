// Preloaded (NODE_OPTIONS=--import) into a client under test so that the example host names
// resolve to loopback without editing /etc/hosts: GATEHOUSE_HOSTS="apim-sample.dev=127.0.0.1,…".
import dns from 'node:dns';

const hosts = new Map(
  (process.env.GATEHOUSE_HOSTS ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => entry.split('=').map((s) => s.trim().toLowerCase())),
);
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const address = hosts.get(String(host).toLowerCase());
  if (!address) return lookup.call(this, host, options, callback);
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  process.nextTick(() => (opts.all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)));
  return undefined;
};
