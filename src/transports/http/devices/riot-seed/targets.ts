import { BlockList, isIP } from 'node:net';
import { DomainError } from '../../../../core/errors.js';

/**
 * Which CoAP targets `/notify` may contact (issue 13, defect 10): with `--no-seed-auth` anyone can name any
 * host:port, which makes the server a UDP cannon. `notifyAllow` lists addresses and CIDR prefixes
 * (`fd00::/8,192.168.1.0/24,127.0.0.1`), `notifyPorts` the ports (`5683`); an empty list allows any. When
 * addresses are listed, a host name is refused (it cannot be checked without resolving it, and resolving
 * could differ between the check and the send).
 */
export function createTargetPolicy(allow: readonly string[], ports: readonly number[]) {
  const list = new BlockList();
  for (const entry of allow) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0)
      throw new Error(`notify allow-list: "${entry}" is not an address or CIDR prefix`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return {
    /** Throws FORBIDDEN for the first target the policy does not allow; `urls` are `coap://host[:port]`. */
    check(targets: readonly { device: string; url: string }[]): void {
      for (const { device, url } of targets) {
        const parsed = new URL(url);
        const host = parsed.hostname.replace(/^\[|\]$/g, '');
        const port = parsed.port === '' ? 5683 : Number(parsed.port);
        const family = isIP(host) === 6 ? 'ipv6' : 'ipv4';
        const addressOk = allow.length === 0 || (isIP(host) !== 0 && list.check(host, family));
        const portOk = ports.length === 0 || ports.includes(port);
        if (!addressOk || !portOk) {
          throw new DomainError(
            'FORBIDDEN',
            `notify target "${device.slice(0, 100)}" is not in the server's allow-list (notifyAllow, notifyPorts)`,
          );
        }
      }
    },
  };
}
