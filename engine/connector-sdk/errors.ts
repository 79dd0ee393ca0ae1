import { AtlasError } from '../errors.ts';
import type { ConnectorErrorInit, ErrorKind } from './types.ts';

/**
 * The one error type a connector throws. Connectors only classify what went wrong;
 * the step's retry policy (engine/runtime/retry.ts) decides what happens next.
 */
export class ConnectorError extends AtlasError {
  readonly kind: ErrorKind;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(init: ConnectorErrorInit) {
    super(init.code, init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ConnectorError';
    this.kind = init.kind;
    this.retryAfterMs = init.retryAfterMs;
    this.status = init.status;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }

  static retryable(code: string, message: string, extra: Partial<ConnectorErrorInit> = {}): ConnectorError {
    return new ConnectorError({ code, message, kind: 'retryable', ...extra });
  }

  static fatal(code: string, message: string, extra: Partial<ConnectorErrorInit> = {}): ConnectorError {
    return new ConnectorError({ code, message, kind: 'fatal', ...extra });
  }

  static auth(code: string, message: string, extra: Partial<ConnectorErrorInit> = {}): ConnectorError {
    return new ConnectorError({ code, message, kind: 'auth', ...extra });
  }

  /** A provider answered with a body that does not have the documented shape. */
  static invalidResponse(message: string, extra: Partial<ConnectorErrorInit> = {}): ConnectorError {
    return new ConnectorError({ code: 'invalid_response', message, kind: 'fatal', ...extra });
  }

  /**
   * The first ConnectorError in a value's `cause` chain. Official SDKs wrap what
   * `ctx.http.fetch` threw (a timeout, an oversized body) in their own error classes.
   */
  static find(value: unknown, depth = 0): ConnectorError | undefined {
    if (value instanceof ConnectorError) return value;
    if (depth > 8 || value === null || typeof value !== 'object') return undefined;
    // `detail` and `exception` are where stripe-node keeps the underlying failure.
    const record = value as { cause?: unknown; error?: unknown; detail?: unknown; exception?: unknown };
    return (
      ConnectorError.find(record.cause, depth + 1) ??
      ConnectorError.find(record.detail, depth + 1) ??
      ConnectorError.find(record.exception, depth + 1) ??
      ConnectorError.find(record.error, depth + 1)
    );
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      kind: this.kind,
      retryable: this.retryable,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}
