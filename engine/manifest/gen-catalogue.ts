// Writes manifests/README.md, the catalogue's table of workflows, from the manifests:
// id, name, trigger, connectors, requirements and one line of purpose. `npm run gen:catalogue`
// rewrites it; a test fails when it is stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { builtinConnectors } from '../../connectors/index.ts';
import { makeConnectorRegistry } from '../connector-sdk/index.ts';
import type { Catalogue } from './catalogue.ts';
import { formatErrors, loadCatalogue } from './index.ts';
import { describeRequirements, workflowRequirements } from './requirements.ts';
import type { Workflow } from './types.gen.ts';

export const MANIFESTS_DIR = fileURLToPath(new URL('../../manifests', import.meta.url));
export const CATALOGUE_FILE = fileURLToPath(new URL('../../manifests/README.md', import.meta.url));

/** `schedule 30 8 * * *`, `webhook stripe: invoice.paid`, `event WF-010 failed`, `manual`. */
export function triggerLine(workflow: Workflow): string {
  const t = workflow.trigger;
  if (t.type === 'schedule') return `schedule \`${t.cron}\``;
  if (t.type === 'webhook') return `webhook \`${t.route}\`${t.events ? `: ${t.events.join(', ')}` : ''}`;
  if (t.type === 'event') return `after ${t.workflow} ${(t.status ?? ['succeeded']).join('/')}`;
  return 'manual';
}

/** The first sentence of the description, on one line. */
export function purpose(workflow: Workflow): string {
  const text = (workflow.description ?? '').replace(/\s+/g, ' ').trim();
  const end = text.search(/\.(\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderCatalogue(catalogue: Catalogue): string {
  const registry = makeConnectorRegistry(builtinConnectors);
  const rows = catalogue.workflows().map(({ manifest }) => {
    const r = workflowRequirements(manifest, registry, catalogue);
    const connectors = r.connectors.filter((c) => c !== 'core');
    const needs = describeRequirements(r);
    return `| ${manifest.id} | ${cell(manifest.name ?? '')} | ${cell(triggerLine(manifest))} | ${connectors.join(', ') || 'core'} | ${cell(needs)}${manifest.enabled === 'default' ? ' (on by default)' : ''} | ${cell(purpose(manifest))} |`;
  });
  return `# The workflow catalogue

Generated from the manifests by \`npm run gen:catalogue\`: do not edit by hand. ${rows.length} workflows.
Copy one into your own manifest directory under an id from \`WF-100\` up (those are left to your
workflows), or enable it for a tenant (\`atlas workflows enable WF-xxx --tenant T --config ...\`).
"On by default" workflows run for every tenant that has what they need and has not turned them
off; the others only for tenants that enable them. \`GET /v1/workflows\` and \`atlas workflows
list\` show the same requirements, and what a tenant lacks.

| id | name | trigger | connectors | requirements | purpose |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

export async function loadShippedCatalogue(): Promise<Catalogue> {
  const { catalogue, errors } = await loadCatalogue({
    dirs: [MANIFESTS_DIR],
    connectors: makeConnectorRegistry(builtinConnectors),
  });
  if (!catalogue) throw new Error(formatErrors(errors));
  return catalogue;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderCatalogue(await loadShippedCatalogue());
  await writeFile(CATALOGUE_FILE, text);
  console.log(`wrote ${CATALOGUE_FILE}`);
}
