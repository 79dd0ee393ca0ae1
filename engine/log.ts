import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * Structured JSON logs; pretty-printed when standard output is a terminal (a person is
 * reading), JSON otherwise (a collector is).
 */
export function makeLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  const redact = {
    paths: ['*.password', '*.secret', '*.token', '*.authorization', 'req.headers.authorization'],
    censor: '[redacted]',
  };
  if (!pretty) return pino({ level, redact, base: { service: 'atlas' } });
  return pino({
    level,
    redact,
    base: undefined,
    transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
  });
}

/** A logger that drops everything (dry runs, quiet commands). */
export const silentLogger: Logger = pino({ level: 'silent' });
