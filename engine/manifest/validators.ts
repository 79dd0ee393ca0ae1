// The validators the loader runs. Compiling the kind schemas, the draft 2020-12 meta-schema
// and the action input schemas with Ajv cost a process most of its start-up, so they are
// precompiled (gen-validators.ts). Each precompiled validator is used only while it still
// matches its schema, so an edited schema or connector is never checked by a stale one:
// Ajv compiles the current schema instead, with the same options and so the same errors.
import type { ErrorObject, Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ConnectorRegistry } from '../connector-sdk/index.ts';
import { makeAjv } from '../json/ajv.ts';
import * as precompiledActions from './actions.gen.js';
import { manifestHash } from './catalogue.ts';
import {
  MANIFEST_AJV_OPTIONS,
  type ManifestKind,
  readSchema,
  SCHEMA_BASE,
  SCHEMA_FILES,
  schemasHash,
} from './schemas.ts';
import * as precompiled from './validators.gen.js';

/** What the loader needs of a validator: Ajv's compiled and standalone functions both fit. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const PRECOMPILED_KINDS: Record<ManifestKind, SchemaValidator> = {
  Workflow: precompiled.Workflow,
  WebhookRoute: precompiled.WebhookRoute,
  OAuthProvider: precompiled.OAuthProvider,
  Agent: precompiled.Agent,
};

let kinds: ((kind: ManifestKind) => SchemaValidator) | undefined;

/** The validator of a manifest kind: the precompiled one while schemas/ is unchanged. */
export function kindValidator(kind: ManifestKind): SchemaValidator {
  kinds ??= precompiled.SCHEMAS_HASH === schemasHash() ? (k) => PRECOMPILED_KINDS[k] : compileKinds();
  return kinds(kind);
}

function compileKinds(): (kind: ManifestKind) => SchemaValidator {
  const ajv = makeSchemaAjv();
  for (const file of Object.values(SCHEMA_FILES)) ajv.addSchema(readSchema(file), SCHEMA_BASE + file);
  return (kind) => {
    const validate = ajv.getSchema(SCHEMA_BASE + SCHEMA_FILES[kind]);
    if (!validate) throw new Error(`schema for ${kind} is missing`);
    return validate;
  };
}

/**
 * An Ajv with the manifest options that checks schemas against the precompiled meta-schema.
 * Ajv validates every schema it compiles against its meta-schema, and compiling that
 * meta-schema took longer than everything else `atlas validate` does with a workflow's
 * `input`. The message is Ajv's own (`schema is invalid: data/type must be ...`); a schema
 * naming another meta-schema in `$schema` takes Ajv's path unchanged.
 */
class ManifestAjv extends Ajv2020 {
  override validateSchema(
    schema: Parameters<Ajv2020['validateSchema']>[0],
    throwOrLogError?: boolean,
  ): ReturnType<Ajv2020['validateSchema']> {
    if (typeof schema === 'boolean' || schema.$schema !== undefined) {
      return super.validateSchema(schema, throwOrLogError);
    }
    const valid = precompiled.META_SCHEMA(schema);
    this.errors = valid ? null : (precompiled.META_SCHEMA.errors ?? null);
    if (!valid && throwOrLogError) throw new Error(`schema is invalid: ${this.errorsText()}`);
    return valid;
  }
}

/** A strict Ajv with formats for compiling manifest-provided schemas (a workflow's `input`). */
export function makeSchemaAjv(extra: Options = {}): Ajv2020 {
  return makeAjv({ ...MANIFEST_AJV_OPTIONS, ...extra }, ManifestAjv);
}

const actionValidators = new WeakMap<object, SchemaValidator>();

/** The input validator of a registered action: precompiled when its schema is a built-in one, as is. */
export function actionInputValidator(registry: ConnectorRegistry, uses: string): SchemaValidator {
  const action = registry.action(uses)?.action;
  if (!action) return registry.inputValidator(uses); // throws the registry's own error
  let validate = actionValidators.get(action);
  if (!validate) {
    // The same canonical-JSON sha256 as a manifest's hash: key order does not count.
    const entry = precompiledActions.ACTIONS[uses];
    validate = entry?.hash === manifestHash(action.input) ? entry.validate : registry.inputValidator(uses);
    actionValidators.set(action, validate);
  }
  return validate;
}
