// n8n's Execute Workflow node → `workflow.run`, when the called workflow is imported beside it.
import { isProblem, Problem, templatePath } from './expressions.ts';
import { isObject, locatorValue, type Mapping, type NodeContext, step, templates } from './node-kit.ts';

export function executeWorkflow(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const source = String(p['source'] ?? 'database');
  if (source !== 'database')
    return new Problem(`a sub-workflow read from "${source}"; import that workflow and call it by id`);
  const n8nId = locatorValue(p['workflowId']);
  if (typeof n8nId !== 'string' || n8nId === '' || n8nId.startsWith('='))
    return new Problem('a sub-workflow chosen by an expression; Atlas calls one workflow by its id');
  const workflow = ctx.workflowFor(n8nId);
  if (workflow === undefined)
    return new Problem(
      `it calls the n8n workflow ${n8nId}, which is not in this import; import them together`,
    );
  const options = isObject(p['options']) ? p['options'] : {};
  let input: unknown;
  const inputs = p['workflowInputs'];
  if (isObject(inputs) && inputs['mappingMode'] === 'defineBelow') {
    input = templates(isObject(inputs['value']) ? inputs['value'] : {}, ctx);
    if (isProblem(input)) return input;
  } else {
    // Older versions (and "pass through" mode) hand the current item to the sub-workflow.
    const item = ctx.resolve(null, []);
    if (isProblem(item))
      return new Problem(
        `it hands its whole input item to the sub-workflow, which Atlas cannot read here: ${item.message}`,
      );
    const path = templatePath(item);
    if (isProblem(path)) return path;
    input = `{{ ${path} }}`;
  }
  const wait = options['waitForSubWorkflow'] !== false;
  ctx.note(
    `"${ctx.node.name}" calls ${workflow}; n8n returned the sub-workflow's last items, Atlas returns its \`output:\` (add one to ${workflow} for the fields read after it)`,
  );
  return step(
    'workflow.run',
    { workflow, input, ...(wait ? {} : { wait: false }) },
    () =>
      new Problem(
        `the result of the sub-workflow ${workflow}: give ${workflow} an \`output:\` and read it from this step's output`,
      ),
  );
}
