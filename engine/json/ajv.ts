/**
 * The one Ajv factory: strict JSON Schema draft 2020-12 with formats (`uri`, `email`,
 * `date-time`, ...). Manifests, action schemas, precompiled validators and API requests all
 * start from these options and add only what their use needs (`discriminator`, coercion of
 * query strings, code generation).
 */
import type { Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** Strict draft 2020-12; `verbose` keeps the schema and data in errors for messages. */
const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  verbose: true,
} as const satisfies Options;

/** An Ajv with {@link AJV_OPTIONS} and `extra`, and the formats; `Class` for a subclass. */
export function makeAjv<T extends Ajv2020 = Ajv2020>(
  extra: Options = {},
  Class: new (options: Options) => T = Ajv2020 as unknown as new (
    options: Options,
  ) => T,
): T {
  const ajv = new Class({ ...AJV_OPTIONS, ...extra });
  addFormats(ajv);
  return ajv;
}
