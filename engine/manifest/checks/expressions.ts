// Checks the templates, `$expr` values and JSON Logic rules found in a manifest value
// against the scope.
import {
  EXPR_KEY,
  exprShapeProblem,
  findExprs,
  formatPath,
  inferType,
  type LogicScan,
  type Schema,
  scanLogic,
  templateRefs,
  walkStrings,
} from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Path } from '../source.ts';
import { checkScopePath, type ScopeModel, scopeSchema } from './scope.ts';

/** Reports every bad template and `$expr` inside `value` (found at `at` in the document). */
export function checkTemplates(doc: ManifestDoc, value: unknown, at: Path, model: ScopeModel): void {
  checkExprs(doc, value, at, model);
  for (const ref of templateRefs(value, at)) {
    if (ref.error) {
      doc.report(ref.at, 'template', `${ref.raw}: ${ref.error}`, { needle: ref.raw });
      continue;
    }
    const problem = checkScopePath(ref.path, model);
    if (problem) doc.report(ref.at, 'template', `${ref.raw}: ${problem}`, { needle: ref.raw });
    else if (!ref.hasFallback) warnSkippable(doc, ref.raw, ref.path, ref.at, model);
  }
}

/** A read of the output of a step that can end without one, with no `??` fallback. */
function warnSkippable(doc: ManifestDoc, raw: string, path: Path, at: Path, model: ScopeModel): void {
  if (path[0] !== 'steps' || path[2] !== 'output') return;
  const step = model.steps.get(String(path[1]));
  if (!step?.mayEndWithout) return;
  const read = formatPath(path);
  doc.report(
    at,
    'skippable',
    `${raw}: step "${step.id}" may be ${step.mayEndWithout}, and then ${read} does not exist; add a fallback: {{ ${read} ?? '' }}`,
    { needle: raw, warning: true },
  );
}

/** Reports unknown operators and unreadable `var`s of a JSON Logic rule found at `at`. */
export function checkLogic(doc: ManifestDoc, rule: unknown, at: Path, model: ScopeModel): LogicScan {
  const scan = scanLogic(rule, at);
  for (const { operator, at: opAt } of scan.unknownOperators) {
    doc.report(opAt, 'logic', `unknown JSON Logic operator "${operator}"`, { key: true });
  }
  for (const v of scan.vars) {
    if (v.local || v.hasDefault || v.name === '') continue;
    const problem = checkScopePath(v.path, model);
    if (problem) doc.report(v.at, 'logic', `var "${v.name}": ${problem}`);
  }
  return scan;
}

/** The roots a `$expr` rule reads: the template roots without secrets. */
function exprModel(model: ScopeModel): ScopeModel {
  return { ...model, roots: model.roots.filter((r) => r !== 'secrets') };
}

/** Checks every `{ $expr }` inside `value`: its shape, operators and vars, and no templates. */
export function checkExprs(doc: ManifestDoc, value: unknown, at: Path, model: ScopeModel): void {
  for (const { node, at: nodeAt } of findExprs(value, at)) {
    const shape = exprShapeProblem(node);
    if (shape) {
      doc.report(nodeAt, 'expr', shape);
      continue;
    }
    const ruleAt = [...nodeAt, EXPR_KEY];
    checkLogic(doc, node[EXPR_KEY], ruleAt, exprModel(model));
    walkStrings(node[EXPR_KEY], ruleAt, (text, where) => {
      const template = /\{\{\s*([^{}]*?)\s*\}\}/.exec(text);
      if (!template) return;
      const path = template[1]!.split('??')[0]!.trim();
      doc.report(
        where,
        'expr',
        `${template[0]}: templates are not rendered inside $expr; read the value with { "var": "${path}" }`,
        { needle: template[0] },
      );
    });
  }
}

/** The result type of a `$expr` rule in this scope. */
export function exprType(rule: unknown, model: ScopeModel): Schema {
  const m = exprModel(model);
  return inferType(rule, (path) => scopeSchema(path, m));
}
