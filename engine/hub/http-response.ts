// A connector's view of an HTTP response: its capped bytes as text or JSON, invalid JSON as a fatal error.
import type { HttpResponse } from '../connector-sdk/index.ts';
import { ConnectorError } from '../connector-sdk/index.ts';
import { JsonLimitError, parseJson } from '../json/limits.ts';
import { tooDeep } from './body.ts';

export function safeJson(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return undefined;
  const text = new TextDecoder().decode(bytes);
  try {
    return parseJson(text);
  } catch {
    return text;
  }
}

export function wrapResponse(response: Response, bytes: Uint8Array, connectorId: string): HttpResponse {
  let text: string | undefined;
  const decode = () => {
    text ??= new TextDecoder().decode(bytes);
    return text;
  };
  return {
    status: response.status,
    headers: response.headers,
    text: decode,
    bytes: () => bytes,
    json<T>(): T {
      const body = decode();
      if (body.trim() === '') return undefined as T;
      try {
        return parseJson(body) as T;
      } catch (cause) {
        if (cause instanceof JsonLimitError) throw tooDeep(connectorId);
        throw ConnectorError.fatal('invalid_response', `${connectorId}: response is not valid JSON`, {
          status: response.status,
          cause,
        });
      }
    },
  };
}
