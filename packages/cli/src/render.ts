/**
 * Renders operation events the way upstream's logrus and waiters print them. Only the CLI
 * writes to the terminal; the library hands it events.
 */
import type { OcneEvent } from '@ocne/core';
import type { TextOutput } from './stdio.js';

/** Output format of log lines. */
export type LogFormat = 'text' | 'json';

/** Upstream's `-l/--log-level` values: the least severe level printed. */
export const LOG_LEVELS = ['error', 'info', 'debug', 'trace'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where and how to render. */
export interface RenderOptions {
  stream: TextOutput;
  format: LogFormat;
  /** A terminal gets `INFO[time] msg` and coloured `: ok`; anything else logrus's key=value lines. */
  tty: boolean;
  /**
   * The least severe level printed, as logrus's: `error` hides warnings and information, `debug`
   * (and `trace`, which adds nothing here) shows debug lines. JSON output is the whole event stream
   * whatever the level. @defaultValue `'info'`
   */
  level?: LogLevel;
}

type Level = 'debug' | 'info' | 'warning' | 'error';
const SHORT: Record<Level, string> = { debug: 'DEBU', info: 'INFO', warning: 'WARN', error: 'ERRO' };
const SEVERITY: Record<Level | LogLevel, number> = { error: 0, warning: 1, info: 2, debug: 3, trace: 4 };

/** Whether a line of `level` is printed when the log level is `threshold`. */
export const shown = (level: Level, threshold: LogLevel = 'info'): boolean =>
  SEVERITY[level] <= SEVERITY[threshold];

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
      if (!shown(level, options.level)) return;
      stream.write(logLine(level, event.message, event.timestamp, tty));
      return;
    }
    case 'warning': {
      if (!shown('warning', options.level)) return;
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
        if (!shown('info', options.level)) return;
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
