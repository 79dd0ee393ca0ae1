// Cross-checks of sub-workflow calls (`uses: workflow.run`) across the catalogue: the child
// exists, the literal parts of the input fit the child's input schema, and no workflow
// reaches itself through calls (A -> B -> A).
import type { ValidateFunction } from 'ajv';
import { describeErrors, didYouMean } from '../../connector-sdk/index.ts';
import { findExprs, templateRefs } from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Workflow } from '../types.gen.ts';
import { makeSchemaAjv } from '../validators.ts';

export const CALL_ACTION = 'workflow.run';

interface Call {
  doc: ManifestDoc;
  stepIndex: number;
  child: string;
}

/** Checks every `workflow.run` step of the valid workflows among `docs`. */
export function checkCalls(docs: readonly ManifestDoc[]): void {
  const workflows = new Map<string, ManifestDoc>();
  for (const doc of docs) if (doc.kind === 'Workflow' && doc.valid && doc.id) workflows.set(doc.id, doc);
  const calls = new Map<string, Call[]>();
  const ajv = makeSchemaAjv({ allErrors: true });
  const validators = new Map<string, ValidateFunction | null>();
  const validatorOf = (id: string): ValidateFunction | null => {
    if (!validators.has(id)) {
      const schema = (workflows.get(id)!.value as unknown as Workflow).input ?? { type: 'object' };
      let validate: ValidateFunction | null = null;
      try {
        validate = ajv.compile(schema);
      } catch {
        // An invalid input schema is reported on the child itself.
      }
      validators.set(id, validate);
    }
    return validators.get(id)!;
  };
  for (const [id, doc] of workflows) {
    const workflow = doc.value as unknown as Workflow;
    workflow.steps.forEach((step, i) => {
      if (step.uses !== CALL_ACTION) return;
      const at = ['steps', i, 'with', 'workflow'];
      const child = (step.with as { workflow?: unknown } | undefined)?.workflow;
      if (typeof child !== 'string') return; // the action's input schema reports it
      if (templateRefs(child).length > 0) {
        doc.report(
          at,
          'call',
          'workflow must be a workflow id, not a template, so that calls can be checked',
        );
        return;
      }
      if (!workflows.has(child)) {
        const others = [...workflows.keys()].filter((w) => w !== id);
        doc.report(at, 'reference', `there is no Workflow "${child}"${didYouMean(child, others)}`);
        return;
      }
      calls.set(id, [...(calls.get(id) ?? []), { doc, stepIndex: i, child }]);
      const validate = validatorOf(child);
      if (validate) checkChildInput(doc, i, child, (step.with as { input?: unknown }).input, validate);
    });
  }
  reportCycles(calls);
}

/** The literal parts of `input` against the child's input schema; templated values are checked at run time. */
function checkChildInput(
  doc: ManifestDoc,
  i: number,
  child: string,
  input: unknown,
  validate: ValidateFunction,
): void {
  const value = input ?? {};
  if (validate(value)) return;
  const templated = [...templateRefs(value).map((r) => r.at), ...findExprs(value).map((e) => e.at)].map(
    (at) => `/${at.map(String).join('/')}`,
  );
  const errors = (validate.errors ?? []).filter(
    (e) => !templated.some((t) => t === '/' || e.instancePath === t || e.instancePath.startsWith(`${t}/`)),
  );
  const prefixed = errors.map((e) => ({ ...e, instancePath: `/with/input${e.instancePath}` }));
  for (const issue of describeErrors(prefixed)) {
    const path = issue.path.length > 0 ? ['steps', i, ...issue.path] : ['steps', i, 'with'];
    doc.report(path, 'input', `${issue.message} (input of ${child})`, { key: issue.atKey });
  }
}

/** Every call on a cycle is reported where it names its child, with the whole cycle. */
function reportCycles(calls: Map<string, Call[]>): void {
  const reported = new Set<Call>();
  const path: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, via: Call[]): void => {
    state.set(id, 'open');
    path.push(id);
    for (const call of calls.get(id) ?? []) {
      if (state.get(call.child) === 'open') {
        const start = path.indexOf(call.child);
        const cycle = [...path.slice(start), call.child];
        for (const c of [...via.slice(start), call]) {
          if (reported.has(c)) continue;
          reported.add(c);
          c.doc.report(
            ['steps', c.stepIndex, 'with', 'workflow'],
            'call-cycle',
            `sub-workflows call each other in a cycle (${cycle.join(' -> ')}); a workflow cannot reach itself through workflow.run`,
          );
        }
      } else if (!state.has(call.child)) {
        visit(call.child, [...via, call]);
      }
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const id of calls.keys()) if (!state.has(id)) visit(id, []);
}
