/**
 * Renders operation events the way upstream's logrus and waiters print them. Only the CLI
 * writes to the terminal; the library hands it events.
 */
import type { OcneEvent } from '@ocne/core';

/** Output format of log lines. */
export type LogFormat = 'text' | 'json';

/** Where and how to render. */
export interface RenderOptions {
  stream: NodeJS.WritableStream;
  format: LogFormat;
  /** A terminal gets `INFO[time] msg` and coloured `: ok`; anything else logrus's key=value lines. */
  tty: boolean;
  /** Print debug lines. @defaultValue false */
  debug?: boolean;
}

type Level = 'debug' | 'info' | 'warning' | 'error';
const SHORT: Record<Level, string> = { debug: 'DEBU', info: 'INFO', warning: 'WARN', error: 'ERRO' };

const time = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** One log line in logrus's text format (terminal or not). */
export function logLine(level: Level, message: string, timestamp: string, tty: boolean): string {
  if (tty) return `${SHORT[level]}[${time(timestamp)}] ${message}\n`;
  return `time="${time(timestamp)}" level=${level} msg=${JSON.stringify(message)}\n`;
}

/** Writes one event. JSON format writes every event as one line; text format writes logrus lines. */
export function renderEvent(event: OcneEvent, options: RenderOptions): void {
  const { stream, tty } = options;
  if (options.format === 'json') {
    stream.write(`${JSON.stringify(event)}\n`);
    return;
  }
  switch (event.type) {
    case 'log': {
      const level: Level = event.level === 'warn' ? 'warning' : event.level;
      if (level === 'debug' && !options.debug) return;
      stream.write(logLine(level, event.message, event.timestamp, tty));
      return;
    }
    case 'warning': {
      const where = event.file
        ? `${event.file}${event.line !== undefined ? `:${event.line}:${event.column ?? 1}` : ''}: `
        : '';
      stream.write(
        logLine(
          'warning',
          `${where}${event.path ? `${event.path}: ` : ''}${event.message}`,
          event.timestamp,
          tty,
        ),
      );
      return;
    }
    case 'step': {
      if (event.status === 'started') return;
      if (event.status === 'succeeded') {
        stream.write(
          tty
            ? `${SHORT.info}[${time(event.timestamp)}] ${event.step}: \x1b[32mok\x1b[0m\x1b[K\n`
            : logLine('info', `${event.step}: ok`, event.timestamp, false),
        );
      } else {
        stream.write(
          logLine('error', `${event.step}: ${event.error?.message ?? 'failed'}`, event.timestamp, tty),
        );
      }
      return;
    }
    case 'instructions':
      stream.write(event.text.endsWith('\n') ? event.text : `${event.text}\n`);
      return;
    case 'progress':
    case 'done':
      return;
  }
}
