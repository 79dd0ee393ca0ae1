// Checks the templates and JSON Logic rules found in a manifest value against the scope.
import { formatPath, type LogicScan, scanLogic, templateRefs } from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Path } from '../source.ts';
import { checkScopePath, type ScopeModel } from './scope.ts';

/** Reports every bad template inside `value` (found at `at` in the document). */
export function checkTemplates(doc: ManifestDoc, value: unknown, at: Path, model: ScopeModel): void {
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
