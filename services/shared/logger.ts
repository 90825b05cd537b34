// One logger for every service. Payloads, message values and raw bytes never reach a log line:
// redaction covers the field names that could carry them, at any depth we log.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'payload',
  '*.payload',
  '*.*.payload',
  'value',
  '*.value',
  '*.*.value',
  'body',
  '*.body',
  'bytes',
  '*.bytes',
  // credentials (KAFKA_SASL_PASSWORD and the like), wherever a config or client setting is logged
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  '["sasl.password"]',
  '*["sasl.password"]',
];

export function createLogger(level: string, name = 'srv-visibility', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
