/**
 * Expressions in manifests: `{{ path }}` templates in step inputs, and JSON Logic in `if`.
 *
 * Templates read the run scope: `trigger`, `input`, `steps.<id>.output`, `tenant`,
 * `secrets.<NAME>`. A string that is exactly one template keeps the value's type (an
 * object, a number); templates inside longer strings are interpolated (objects as JSON,
 * null as nothing). A missing value is an error, unless the template has a fallback:
 * `{{ input.limit ?? 10 }}`. `{ $expr: rule }` computes a value with JSON Logic and Atlas's
 * pure operations (compute.ts, functions.ts).
 */
export {
  EXPR_KEY,
  exprShapeProblem,
  findExprs,
  hasExpr,
  inferType,
  literalType,
  type Schema,
  type TypeResolver,
  typeFits,
  typeNames,
  typeWords,
  union,
} from './compute.ts';
export { ATLAS_OPERATORS } from './functions.ts';
export {
  evaluate,
  isTruthy,
  LOGIC_OPERATORS,
  LogicError,
  type LogicScan,
  type LogicVar,
  logicVars,
  STANDARD_OPERATORS,
  scanLogic,
} from './logic.ts';
export {
  formatPath,
  type Path,
  type PathSegment,
  readPath,
  SCOPE_ROOTS,
  type ScopeRoot,
  STEP_FIELDS,
  splitDotted,
  TENANT_FIELDS,
  TRIGGER_FIELDS,
} from './path.ts';
export { type TemplateRef, templateRefs, walkStrings } from './refs.ts';
export {
  logicData,
  type RenderScope,
  type ResolvedScope,
  render,
  renderSync,
  type SecretResolver,
  TemplateError,
} from './render.ts';
export { findTemplates, parseTemplate, TemplateSyntaxError } from './template.ts';
