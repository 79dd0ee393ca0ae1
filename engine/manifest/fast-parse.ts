// The fast path of reading a manifest: js-yaml builds plain values straight from its event
// stream, about four times faster than the `yaml` library's document model with source
// ranges. Positions are needed only to report an error, so `source.ts` builds that model
// only for a file that has one. Whatever this path is not sure to read exactly as the full
// parser does, it declines, and the full parser reads the file: aliases (whose expansion the
// full parser bounds), explicit tags, an empty or `null` document, and every syntax error,
// duplicate key or excessive nesting (the full parser reports them with their place).
import {
  boolCoreTag,
  defineScalarTag,
  floatCoreTag,
  intCoreTag,
  loadAll,
  mapTag,
  nullCoreTag,
  Schema,
  seqTag,
  strTag,
} from 'js-yaml';
import { MAX_JSON_DEPTH } from '../json/limits.ts';

/** A decimal float as the YAML 1.2 core schema writes it. */
const DECIMAL = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * The YAML 1.2 core schema as the `yaml` library resolves it: js-yaml's own, except that a
 * number too large for a double is Infinity there (js-yaml keeps it a string).
 */
const CORE = new Schema([
  strTag,
  seqTag,
  mapTag,
  nullCoreTag,
  boolCoreTag,
  intCoreTag,
  defineScalarTag('tag:yaml.org,2002:float', {
    ...floatCoreTag,
    resolve: (source, isExplicit, tagName) =>
      !isExplicit && DECIMAL.test(source)
        ? Number.parseFloat(source)
        : floatCoreTag.resolve(source, isExplicit, tagName),
  }),
]);

/** A tag (`!foo`, `!!str`) where a node can start, outside quotes as far as a regex can tell. */
const TAG = /(?:^|[\s[{,])!/;
/** A null key (`~: x`), which js-yaml names "null" and the `yaml` library "". */
const NULL_KEY = /(?:^|[\s[{,?])(?:~|null|Null|NULL)?[ \t]*:(?:[ \t\r\n]|$)/;

/** The plain values of every document of a YAML or JSON text, or undefined to use the full parser. */
export function fastParse(text: string): unknown[] | undefined {
  if (TAG.test(text) || NULL_KEY.test(text)) return undefined;
  let docs: unknown[];
  try {
    // Duplicate keys refused (`json: false`), no aliases, nesting bounded.
    docs = loadAll(text, { schema: CORE, json: false, maxAliases: 0, maxDepth: MAX_JSON_DEPTH });
  } catch {
    return undefined;
  }
  if (docs.length === 0 || docs.some((doc) => doc === null || doc === undefined)) return undefined;
  return docs;
}
