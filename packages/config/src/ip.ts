/**
 * IP address syntax, as `node:net`'s `isIP`/`isIPv4`/`isIPv6` accept it (a property test checks
 * that they agree on every input): here so that reading a configuration does not load `node:net`,
 * which brings Node's streams with it, on every cold command.
 */

/** `0`–`255` in decimal, without a leading zero. */
const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** What may follow `%` (a zone such as `eth0` or `1`). */
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/** Whether `text` is a dotted-quad IPv4 address such as `192.0.2.10`. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

/**
 * Whether `text` is an IPv6 address: eight groups of 1–4 hex digits, one `::` standing for one or
 * more groups of zeros, the last two groups optionally written as an IPv4 address, and an optional
 * `%zone`.
 */
export function isIPv6(text: string): boolean {
  let address = text;
  const percent = text.indexOf('%');
  if (percent >= 0) {
    if (!ZONE.test(text.slice(percent + 1))) return false;
    address = text.slice(0, percent);
  }
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const compressed = halves.length === 2;
  const tail = compressed ? groups(halves[1] as string) : [];
  const parts = compressed ? [...groups(halves[0] as string), ...tail] : groups(address);
  // An IPv4 address only at the very end (not before a trailing `::`), where it stands for two groups.
  const endsInLast = compressed ? tail.length > 0 : parts.length > 1;
  let count = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (HEX_GROUP.test(part)) count += 1;
    else if (i === parts.length - 1 && endsInLast && isIPv4(part)) count += 2;
    else return false;
  }
  return compressed ? count <= 7 : count === 8;
}

/** 4 for an IPv4 address, 6 for an IPv6 address, 0 for anything else (as `net.isIP`). */
export function isIP(text: string): 0 | 4 | 6 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}
