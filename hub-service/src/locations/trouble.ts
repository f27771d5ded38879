/**
 * Why a peer did not answer, said as an operator acts on it: the admin panel (web/locations-view.ts)
 * and `wod doctor` (doctor/locations.ts) both read the messages of callPeer (./peers.ts) through this.
 */

/** A sentence for the last error of a call to `peer`; the raw message when nothing better is known. */
export function troubleOf(peer: string, error: string, self: string | null): string {
  const answered = /answered (\d{3})/.exec(error);
  const status = answered ? Number(answered[1]) : null;
  const us = self ?? '<this wod>';
  if (error.startsWith('no token from')) return `no token of ${peer} accepted here yet: run 'wod locations issue ${us}' there, then 'wod locations accept ${peer}' here`;
  if (status === 401 || status === 403)
    return `${peer} refuses the token we present (HTTP ${status}): run 'wod locations issue ${us}' there, then 'wod locations accept ${peer}' here with the new one`;
  if (status !== null && status >= 502 && status <= 504) return `the proxy in front of ${peer} answers, the wod service behind it does not (HTTP ${status})`;
  if (status !== null && status >= 500) return `${peer} fails (HTTP ${status}): read its log`;
  if (/ECONNREFUSED/.test(error)) return `nothing listens at its URL (connection refused): is ${peer} started, and its URL right?`;
  if (/ENOTFOUND|EAI_AGAIN/.test(error)) return `its host name does not resolve (DNS): is its URL right?`;
  if (/timeout|timed out|ETIMEDOUT/i.test(error)) return `no answer in time (timeout): ${peer} or the network to it is down or overloaded`;
  if (/certificate|CERT_|SSL|TLS/i.test(error)) return `its TLS certificate is not trusted here: ${error}`;
  if (/ECONNRESET|socket hang up|other side closed/i.test(error)) return `the connection was cut (reset): a proxy or firewall between us?`;
  return error;
}
