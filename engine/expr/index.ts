/**
 * Expressions in manifests: `{{ path }}` templates in step inputs, and JSON Logic in `if`.
 *
 * Templates read the run scope: `trigger`, `input`, `steps.<id>.output`, `tenant`,
 * `secrets.<NAME>`. A string that is exactly one template keeps the value's type (an
 * object, a number); templates inside longer strings are interpolated (objects as JSON,
 * null as nothing). A missing value is an error, unless the template has a fallback:
 * `{{ input.limit ?? 10 }}`.
 */
export {
  evaluate,
  isTruthy,
  LOGIC_OPERATORS,
  LogicError,
  type LogicScan,
  type LogicVar,
  logicVars,
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
  type RenderScope,
  type ResolvedScope,
  render,
  renderSync,
  type SecretResolver,
  TemplateError,
} from './render.ts';
export { findTemplates, parseTemplate, TemplateSyntaxError } from './template.ts';
