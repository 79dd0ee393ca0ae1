// Turns Ajv errors into plain sentences. Shared by the manifest validator (errors in a
// YAML file) and the registry (an action's input at run time), so both read the same.
import type { ErrorObject } from 'ajv';
import { didYouMean } from './suggest.ts';

export type IssuePath = (string | number)[];

export interface SchemaIssue {
  /** Where in the checked value (segments of Ajv's instancePath). */
  path: IssuePath;
  /** The Ajv keyword (`required`, `type`, `additionalProperties`, ...). */
  keyword: string;
  /** A plain sentence naming the field, e.g. `steps[0].timeout must be a duration like "30s"`. */
  message: string;
  /** For `additionalProperties`: the key itself is the culprit, not its value. */
  atKey: boolean;
}

/**
 * Splits a JSON Pointer (`/steps/0/with`) into segments. Digit-only segments become numbers
 * (array indexes); consumers that walk maps look numbers up as string keys too.
 */
function pointerToPath(pointer: string): IssuePath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key;
    });
}

/** `steps[0].with.text`, or `the manifest` for the root. */
export function describePath(path: IssuePath, root = 'the manifest'): string {
  if (path.length === 0) return root;
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'an object (a map of fields)',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

/** One sentence for one Ajv error (run with `verbose: true`, so `data` and `parentSchema` are set). */
function describeError(error: ErrorObject, root?: string): SchemaIssue {
  const path = pointerToPath(error.instancePath);
  const where = describePath(path, root);
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const example = Array.isArray(schema.examples) ? schema.examples[0] : undefined;
  const base = { path, keyword: error.keyword, atKey: false };
  switch (error.keyword) {
    case 'required':
      return {
        ...base,
        message: `${where} is missing the required field "${String(params.missingProperty)}"`,
      };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((schema.properties ?? {}) as object);
      const hint = didYouMean(key, known) || (known.length > 0 ? ` (known fields: ${known.join(', ')})` : '');
      return {
        ...base,
        path: [...path, key],
        atKey: true,
        message: `unknown field "${key}" in ${where}${hint}`,
      };
    }
    case 'type': {
      const expected = String(params.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ');
      return { ...base, message: `${where} must be ${expected}, not ${typeName(error.data)}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]) ?? [];
      const hint = typeof error.data === 'string' ? didYouMean(error.data, allowed.map(String)) : '';
      return {
        ...base,
        message: `${where} must be one of ${allowed.map(show).join(', ')}, not ${show(error.data)}${hint}`,
      };
    }
    case 'const':
      return { ...base, message: `${where} must be ${show(params.allowedValue)}, not ${show(error.data)}` };
    case 'pattern': {
      const like = example === undefined ? `match ${String(params.pattern)}` : `look like ${show(example)}`;
      return { ...base, message: `${where} ${show(error.data)} is not valid: it must ${like}` };
    }
    case 'format':
      return { ...base, message: `${where} ${show(error.data)} is not a valid ${String(params.format)}` };
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
    case 'minLength':
    case 'maxLength': {
      const limit = Number(params.limit);
      const least = error.keyword.startsWith('min') ? 'at least' : 'at most';
      const unit = error.keyword.endsWith('Items')
        ? 'item'
        : error.keyword.endsWith('Length')
          ? 'character'
          : 'field';
      return { ...base, message: `${where} must have ${least} ${limit} ${unit}${limit === 1 ? '' : 's'}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const word = {
        minimum: 'at least',
        maximum: 'at most',
        exclusiveMinimum: 'more than',
        exclusiveMaximum: 'less than',
      }[error.keyword];
      return {
        ...base,
        message: `${where} must be ${word} ${String(params.limit)}, not ${show(error.data)}`,
      };
    }
    case 'uniqueItems':
      return {
        ...base,
        message: `${where} lists the same value twice (items ${String(params.j)} and ${String(params.i)})`,
      };
    default:
      return { ...base, message: `${where} ${error.message ?? 'is not valid'}` };
  }
}

/**
 * Sentences for a list of Ajv errors, without the noise: a failed `if`/`then`, `oneOf` or
 * discriminator wrapper is dropped when a more precise error about the same place exists.
 */
export function describeErrors(errors: readonly ErrorObject[], root?: string): SchemaIssue[] {
  const precise = errors.filter((e) => !['if', 'oneOf', 'anyOf', 'discriminator'].includes(e.keyword));
  const kept = errors.filter((e) => {
    if (e.keyword === 'if') return false;
    // One branch of a `oneOf` failing on the type, while another fails deeper inside the value
    // (`tools[0]` as a string, but the object has a bad field): the deeper error says more.
    if (
      e.keyword === 'type' &&
      errors.some((o) => ['oneOf', 'anyOf'].includes(o.keyword) && o.instancePath === e.instancePath) &&
      precise.some((p) => p.instancePath.startsWith(`${e.instancePath}/`))
    )
      return false;
    if (!['oneOf', 'anyOf', 'discriminator'].includes(e.keyword)) return true;
    return !precise.some(
      (p) => p.instancePath === e.instancePath || p.instancePath.startsWith(`${e.instancePath}/`),
    );
  });
  const seen = new Set<string>();
  const issues: SchemaIssue[] = [];
  for (const error of kept) {
    const issue = describeError(error, root);
    const key = `${issue.path.join('/')}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}
