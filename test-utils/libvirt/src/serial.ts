/**
 * Reading what the tiny guest prints on its serial console (`OCNE-TEST <key> <value>` lines): the
 * length and sha256 of the Ignition it read from fw_cfg, its NICs and address, on a node segment
 * its segment address, virtual IP or API endpoint and the endpoint's reply, and when it listens on
 * the API port and powers off.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the guest reported, line by line. */
export interface GuestReport {
  /** The Ignition's length and sha256 as the guest read them; undefined when fw_cfg had none. */
  ignition?: { size: number; sha256: string };
  fwCfgMissing: boolean;
  /** `name → sysfs device path`. */
  nics: Record<string, string>;
  address?: string;
  /** On a node segment: the NIC and the `address/prefix` the guest took from its Ignition's ifcfg-enp1s0. */
  segment?: { nic: string; address: string };
  /** The virtual IP the first control-plane node took (from its keepalived.conf). */
  virtualIp?: string;
  /** The API endpoint a joining node's kubeadm JoinConfiguration names. */
  apiEndpoint?: string;
  /** What that endpoint answered the joining node. */
  apiReply?: string;
  listening: boolean;
  poweroff: boolean;
  /** Every `OCNE-TEST` line. */
  lines: string[];
}

/** Reads the report from a serial log's text. */
export function parseGuestReport(text: string): GuestReport {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\r/g, ''))
    .filter((l) => l.startsWith('OCNE-TEST '));
  const report: GuestReport = { fwCfgMissing: false, nics: {}, listening: false, poweroff: false, lines };
  let size: number | undefined;
  for (const line of lines) {
    const [, key, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (key === 'fwcfg-size') size = Number.parseInt(value, 10);
    else if (key === 'fwcfg-sha256' && size !== undefined) report.ignition = { size, sha256: value };
    else if (key === 'fwcfg-missing') report.fwCfgMissing = true;
    else if (key === 'nic') {
      const [name, device] = rest;
      if (name) report.nics[name] = device ?? '';
    } else if (key === 'address') report.address = value;
    else if (key === 'segment') report.segment = { nic: rest[0] ?? '', address: rest[1] ?? '' };
    else if (key === 'vip') report.virtualIp = value;
    else if (key === 'api-endpoint') report.apiEndpoint = value;
    else if (key === 'api-reply') report.apiReply = rest.slice(1).join(' ');
    else if (key === 'listening') report.listening = true;
    else if (key === 'poweroff') report.poweroff = true;
  }
  return report;
}

/** Reads a serial log until `done` holds for its report, or fails after `timeoutMs`. */
export async function waitForGuest(
  logPath: string,
  done: (report: GuestReport) => boolean,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<GuestReport> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let report = parseGuestReport('');
  for (;;) {
    options.signal?.throwIfAborted();
    const text = await readFile(logPath, 'latin1').catch(() => '');
    report = parseGuestReport(text);
    if (done(report)) return report;
    if (Date.now() > deadline) {
      throw new Error(
        `the guest did not get there in time; it printed: ${report.lines.join(' | ') || '(nothing)'}`,
      );
    }
    await sleep(200);
  }
}
