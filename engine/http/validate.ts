/**
 * Request validation with Ajv, compiled once per route when the app is made. Bodies are
 * validated as sent (a string is not a number); query strings and path parameters arrive as
 * text, so their validator coerces ("10" becomes 10) before checking.
 */

import type { ErrorObject, ValidateFunction } from 'ajv';
import { makeAjv } from '../json/ajv.ts';
import type { JsonSchema } from './route.ts';

/** The one Ajv's options, and for requests: defaults filled in, texts coerced. */
const makeValidatorAjv = (coerce: boolean) => makeAjv({ coerceTypes: coerce, useDefaults: true });

const bodies = makeValidatorAjv(false);
const texts = makeValidatorAjv(true);

/** Validates (and, for texts, coerces in place); returns the problems found, none when valid. */
export type Validator = (value: unknown) => FieldError[];

export interface FieldError {
  /** JSON Pointer to the offending value (`/input/email`), or `` for the whole document. */
  pointer: string;
  message: string;
}

export function compileBody(schema: JsonSchema): Validator {
  return wrap(bodies.compile(schema));
}

export function compileText(schema: JsonSchema): Validator {
  return wrap(texts.compile(schema));
}

function wrap(validate: ValidateFunction): Validator {
  return (value) => (validate(value) ? [] : (validate.errors ?? []).slice(0, 20).map(toFieldError));
}

function toFieldError(e: ErrorObject): FieldError {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { pointer: `${e.instancePath}/${missing}`, message: 'is required' };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { pointer: `${e.instancePath}/${extra}`, message: 'is not a known field' };
  }
  return { pointer: e.instancePath, message: e.message ?? `fails ${e.keyword}` };
}
