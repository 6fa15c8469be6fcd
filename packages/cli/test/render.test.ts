// What the CLI prints for events: logrus lines on a terminal and off it, `: ok` step endings,
// instructions verbatim, and JSON lines.
import type { OcneEvent } from '@ocne/core';
import { describe, expect, it } from 'vitest';
import { renderEvent } from '../src/render.js';

const ts = '2026-11-21T23:52:43.123Z';
function render(event: OcneEvent, tty: boolean, format: 'text' | 'json' = 'text'): string {
  let out = '';
  const stream = {
    write(s: string) {
      out += s;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  renderEvent(event, { stream, format, tty });
  return out;
}

describe('renderEvent', () => {
  it('log lines: INFO[time] on a terminal, logrus key=value otherwise', () => {
    const e: OcneEvent = {
      type: 'log',
      level: 'info',
      message: 'Applying Cluster API resources',
      seq: 1,
      timestamp: ts,
    };
    expect(render(e, true)).toBe('INFO[2026-11-21T23:52:43Z] Applying Cluster API resources\n');
    expect(render(e, false)).toBe(
      'time="2026-11-21T23:52:43Z" level=info msg="Applying Cluster API resources"\n',
    );
  });

  it('a finished step ends with ": ok" (green on a terminal); a failed one is an error line', () => {
    const ok: OcneEvent = {
      type: 'step',
      step: 'Waiting for kubeconfig',
      status: 'succeeded',
      seq: 2,
      timestamp: ts,
    };
    expect(render(ok, true)).toBe(
      'INFO[2026-11-21T23:52:43Z] Waiting for kubeconfig: \x1b[32mok\x1b[0m\x1b[K\n',
    );
    expect(render(ok, false)).toBe(
      'time="2026-11-21T23:52:43Z" level=info msg="Waiting for kubeconfig: ok"\n',
    );
    expect(render({ ...ok, status: 'started' }, true)).toBe('');
    const failed: OcneEvent = {
      ...ok,
      status: 'failed',
      error: { code: 'OCNE_TIMEOUT', message: 'timed out' },
    };
    expect(render(failed, true)).toBe('ERRO[2026-11-21T23:52:43Z] Waiting for kubeconfig: timed out\n');
  });

  it('warnings carry their location; instructions are printed as they are', () => {
    const w: OcneEvent = {
      type: 'warning',
      code: 'OCNE_CONFIG_UNKNOWN_KEY',
      message: 'unknown key "x"',
      file: '/c.yaml',
      line: 3,
      column: 1,
      path: 'x',
      seq: 3,
      timestamp: ts,
    };
    expect(render(w, false)).toBe(
      'time="2026-11-21T23:52:43Z" level=warning msg="/c.yaml:3:1: x: unknown key \\"x\\""\n',
    );
    const i: OcneEvent = {
      type: 'instructions',
      text: 'Run this command: kubeadm token create a.b\n',
      commands: ['kubeadm token create a.b'],
      seq: 4,
      timestamp: ts,
    };
    expect(render(i, true)).toBe('Run this command: kubeadm token create a.b\n');
  });

  it('JSON format writes every event, done included, as one line', () => {
    const d: OcneEvent = { type: 'done', ok: true, seq: 5, timestamp: ts };
    expect(JSON.parse(render(d, true, 'json'))).toEqual(d);
    expect(render(d, true)).toBe('');
  });
});
