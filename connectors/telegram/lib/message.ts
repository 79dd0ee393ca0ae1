import { ConnectorError, expectNumber, expectRecord } from 'atlas-engine/sdk';

export interface SentMessage {
  message_id: number;
  chat_id: number | string;
  date: number;
}

/** Picks the fields we promise from a Bot API `Message`. */
export function toSentMessage(result: unknown, what: string): SentMessage {
  const record = expectRecord(result, what);
  const chat = expectRecord(record['chat'], `${what} chat`);
  const id = chat['id'];
  if (typeof id !== 'number' && typeof id !== 'string')
    throw ConnectorError.invalidResponse(`${what}: chat has no id`);
  return {
    message_id: expectNumber(record, 'message_id', what),
    chat_id: id,
    date: expectNumber(record, 'date', what),
  };
}

/**
 * Telegram limits are in UTF-16 code units (its entity offsets are too), which is what
 * `String.length` counts; JSON Schema's maxLength counts code points, so it is checked here.
 */
export function checkLength(field: string, value: string, min: number, max: number): void {
  if (value.length < min || value.length > max) {
    throw ConnectorError.fatal(
      value.length < min ? `${field}_empty` : `${field}_too_long`,
      `telegram: ${field} must be ${min}-${max} characters, got ${value.length}`,
    );
  }
}
