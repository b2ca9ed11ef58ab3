import type { Rule } from '../rule.js';
import { agentSpecs, isObject } from '../specs.js';

/** True for an IPv4 or IPv6 address. */
function isIpAddress(value: string): boolean {
  return (
    /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/.test(value) ||
    (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value))
  );
}

/**
 * `agent/network`: `aliases` with mode host or none (aliases only exist on
 * the run network), a `dns` entry that is not an IP address.
 */
export const networkRule: Rule = {
  id: 'agent/network',
  category: 'agent',
  docs: 'agents',
  summary: 'a network setting that is malformed',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      const network = spec.network;
      if (!isObject(network)) continue;
      const mode = network.mode;
      if (
        (mode === 'host' || mode === 'none') &&
        Array.isArray(network.aliases) &&
        network.aliases.length > 0
      ) {
        ctx.report({
          at: [...path, 'network', 'aliases'],
          target: 'key',
          message: `network mode ${JSON.stringify(mode)} has no run network to be known on; remove "aliases", or use mode "bridge"`,
        });
      }
      if (!Array.isArray(network.dns)) continue;
      network.dns.forEach((server, i) => {
        if (typeof server !== 'string' || server === '' || isIpAddress(server)) return;
        ctx.report({
          at: [...path, 'network', 'dns', String(i)],
          message: `DNS server ${JSON.stringify(server)} is not an IP address`,
          hint: "write the name server's IPv4 or IPv6 address, e.g. 1.1.1.1",
        });
      });
    }
  },
};
