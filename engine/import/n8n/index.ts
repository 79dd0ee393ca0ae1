// `atlas import n8n`: n8n workflow exports → Atlas manifests (YAML) and a report.
//
//   const result = await importN8n({ files: ['flows/'], idFrom: 100 });
//   for (const file of result.files) write(file.name, file.text);
//   console.log(formatReport(result.report));
import fs from 'node:fs/promises';
import path from 'node:path';
import { builtinConnectors } from '../../../connectors/index.ts';
import { type ManifestSource, validateSources } from '../../manifest/index.ts';
import { type Conversion, convertWorkflow } from './convert.ts';
import { clip, Problem } from './expressions.ts';
import { ImportInputError, loadExports } from './load.ts';
import { fileName, stepAtLine, toYaml } from './manifest-text.ts';

export { ImportInputError } from './load.ts';

export interface WorkflowReport {
  source: string;
  name: string;
  status: 'converted' | 'partial' | 'refused';
  id?: string;
  files: string[];
  reason?: string;
  untranslated: Conversion['untranslated'];
  secrets: { name: string; for: string }[];
  integrations: { provider: string; for: string }[];
  setup: string[];
  notes: string[];
}

export interface ImportReport {
  workflows: WorkflowReport[];
  totals: { workflows: number; converted: number; partial: number; refused: number };
  /** Untranslated nodes per n8n type, most frequent first. */
  untranslatedTypes: { type: string; count: number }[];
}

export interface ImportResult {
  files: { name: string; text: string }[];
  report: ImportReport;
}

export interface ImportOptions {
  /** Export files or directories (every `.json` below them). */
  paths: string[];
  /** The first workflow number: WF-<idFrom>, WF-<idFrom + 1>... */
  idFrom?: number;
  /** Manifest directories the written workflows will live beside (their webhook routes are checked against them). */
  catalogue?: string[];
  /** Where the files will be written: catalogue files they replace are left out of the check. */
  outDir?: string;
}

const SHIPPED_ROUTES = path.resolve(import.meta.dirname, '../../../manifests/webhooks');

export async function importN8n(options: ImportOptions): Promise<ImportResult> {
  const loaded = await loadExports(options.paths);
  const idFrom = options.idFrom ?? 100;
  if (!Number.isInteger(idFrom) || idFrom < 0 || idFrom + loaded.length - 1 > 9999)
    throw new ImportInputError(
      `--id-from ${idFrom} leaves no room for ${loaded.length} workflows between WF-000 and WF-9999`,
    );
  // Atlas ids in input order; n8n ids → Atlas ids, for Error Trigger workflows.
  const atlasIds = loaded.map((_, i) => `WF-${String(idFrom + i).padStart(3, '0')}`);
  const byN8nId = new Map<string, string[]>();
  loaded.forEach((l, i) => {
    const errorWorkflow = l.workflow?.errorWorkflow;
    if (errorWorkflow) byN8nId.set(errorWorkflow, [...(byN8nId.get(errorWorkflow) ?? []), atlasIds[i]!]);
  });
  const workflows = new Map<string, string>();
  loaded.forEach((l, i) => {
    if (l.workflow?.id) workflows.set(String(l.workflow.id), atlasIds[i]!);
  });
  const routes = new Set<string>();
  type Output = { index: number; files: { name: string; text: string; manifest: unknown }[] };
  /** Converts workflow i; `forced` names nodes to leave untranslated because their step did not validate. */
  const build = (
    i: number,
    forced?: Map<string, Problem>,
  ): { report: WorkflowReport; output?: Output['files']; stepNodes: string[] } => {
    const l = loaded[i]!;
    const base = {
      source: l.source,
      name: l.workflow?.name ?? path.basename(l.source),
      files: [],
      untranslated: [],
      secrets: [],
      integrations: [],
      setup: [],
      notes: [],
    };
    if (!l.workflow)
      return { report: { ...base, status: 'refused', reason: l.error ?? 'unreadable' }, stepNodes: [] };
    const wf = l.workflow;
    const sources = wf.id ? byN8nId.get(wf.id) : undefined;
    const conversion = convertWorkflow(wf, {
      id: atlasIds[i]!,
      routes,
      workflows,
      ...(forced ? { forced } : {}),
      ...(sources === undefined
        ? {}
        : {
            errorSource:
              sources.length === 1
                ? sources[0]!
                : new Problem(
                    `${sources.length} workflows name it as their error workflow; an Atlas event trigger watches one`,
                  ),
          }),
    });
    const report: WorkflowReport = {
      ...base,
      status: conversion.refused ? 'refused' : conversion.untranslated.length > 0 ? 'partial' : 'converted',
      untranslated: conversion.untranslated,
      secrets: [...conversion.secrets]
        .map(([name, why]) => ({ name, for: why }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      integrations: [...conversion.integrations].map(([provider, why]) => ({ provider, for: why })),
      setup: conversion.setup,
      notes: conversion.notes,
    };
    if (conversion.refused || !conversion.workflow)
      return { report: { ...report, reason: conversion.refused ?? 'nothing to write' }, stepNodes: [] };
    const id = atlasIds[i]!;
    const files = [
      {
        name: `workflows/${fileName(id, wf.name)}`,
        text: toYaml(conversion.workflow, conversion.comments.top, conversion.comments.steps),
        manifest: conversion.workflow,
      },
    ];
    if (conversion.route) {
      const routeId = String(conversion.route['id']);
      files.push({
        name: `webhooks/${routeId}.yaml`,
        text: toYaml(conversion.route, [
          ` the webhook of the n8n workflow "${clip(wf.name, 80).replace(/\n/g, ' ')}"`,
        ]),
        manifest: conversion.route,
      });
    }
    return {
      report: { ...report, id, files: files.map((f) => f.name) },
      output: files,
      stepNodes: conversion.stepNodes,
    };
  };
  const reports: WorkflowReport[] = [];
  const outputs: Output[] = [];
  const stepNodes = new Map<number, string[]>();
  const forcedOf = new Map<number, Map<string, Problem>>();
  const workflowOf = new Map<number, number>(); // report index → input index
  loaded.forEach((_, i) => {
    const built = build(i);
    reports.push(built.report);
    workflowOf.set(reports.length - 1, i);
    if (built.output) {
      outputs.push({ index: reports.length - 1, files: built.output });
      stepNodes.set(reports.length - 1, built.stepNodes);
    }
  });

  // Every manifest written validates: check them together with the routes they may name.
  const catalogueDirs = options.catalogue ?? [SHIPPED_ROUTES];
  const extra: ManifestSource[] = [];
  const extraYaml = await Promise.all(
    catalogueDirs.map(async (dir) => {
      const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
      return entries
        .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
        .map((e) => path.join(e.parentPath, e.name));
    }),
  );
  const replaced = new Set(
    options.outDir ? outputs.flatMap((o) => o.files.map((f) => path.resolve(options.outDir!, f.name))) : [],
  );
  for (const file of extraYaml.flat().sort())
    if (!replaced.has(path.resolve(file))) extra.push({ file, text: await fs.readFile(file, 'utf8') });
  let pending = outputs;
  // A step that does not validate becomes an explicit failing step (at most ten per workflow);
  // an error outside the steps refuses the workflow.
  for (let round = 0; round < 12 && pending.length > 0; round++) {
    const sources: ManifestSource[] = [
      ...extra,
      ...pending.flatMap((o) => o.files.map((f) => ({ file: f.name, text: f.text }))),
    ];
    const { errors } = validateSources(sources, { connectors: builtinConnectors });
    if (errors.length === 0) break;
    const bad = new Set<number>();
    const rebuilt: Output[] = [];
    for (const o of pending) {
      const mine = errors.filter((e) => o.files.some((f) => f.name === e.file));
      if (mine.length === 0) continue;
      bad.add(o.index);
      const workflowFile = o.files[0]!;
      const nodes = stepNodes.get(o.index) ?? [];
      const forced = forcedOf.get(o.index) ?? new Map<string, Problem>();
      const culprits = mine.map((e) =>
        e.file === workflowFile.name ? stepAtLine(workflowFile.text, e.line) : undefined,
      );
      const r = reports[o.index]!;
      if (culprits.every((c) => c !== undefined && nodes[c] !== undefined) && forced.size < 10) {
        for (const [k, c] of culprits.entries())
          forced.set(
            nodes[c!]!,
            new Problem(`the step it became does not validate: ${clip(mine[k]!.message, 300)}`),
          );
        forcedOf.set(o.index, forced);
        for (const f of o.files)
          if (f.name.startsWith('webhooks/')) routes.delete(path.basename(f.name, '.yaml'));
        const built = build(workflowOf.get(o.index)!, forced);
        reports[o.index] = built.report;
        if (built.output) {
          rebuilt.push({ index: o.index, files: built.output });
          stepNodes.set(o.index, built.stepNodes);
          continue;
        }
      }
      Object.assign(reports[o.index]!, {
        status: 'refused',
        files: [],
        reason: r.reason ?? `the manifest it became does not validate: ${clip(mine[0]!.message, 300)}`,
      });
      delete reports[o.index]!.id;
    }
    if (bad.size === 0) {
      // An error in the catalogue itself: nothing imported can be trusted to validate.
      throw new ImportInputError(
        `the catalogue beside the import does not validate: ${errors[0]!.file}: ${errors[0]!.message}`,
      );
    }
    pending = [...pending.filter((o) => !bad.has(o.index)), ...rebuilt].sort((a, b) => a.index - b.index);
  }
  const files = pending.flatMap((o) => o.files.map(({ name, text }) => ({ name, text })));
  const counts = new Map<string, number>();
  for (const r of reports)
    for (const u of r.untranslated) if (!u.upstream) counts.set(u.type, (counts.get(u.type) ?? 0) + 1);
  return {
    files,
    report: {
      workflows: reports,
      totals: {
        workflows: reports.length,
        converted: reports.filter((r) => r.status === 'converted').length,
        partial: reports.filter((r) => r.status === 'partial').length,
        refused: reports.filter((r) => r.status === 'refused').length,
      },
      untranslatedTypes: [...counts]
        .map(([type, count]) => ({ type, count }))
        .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)),
    },
  };
}

/** The report as text: one block per workflow, then the totals. */
export function formatReport(report: ImportReport): string {
  const lines: string[] = [];
  for (const r of report.workflows) {
    const head = r.status === 'refused' ? 'REFUSED' : r.status === 'partial' ? 'PARTIAL' : 'CONVERTED';
    lines.push(`${head}  ${r.source}  "${clip(r.name, 80)}"${r.id ? ` → ${r.id}` : ''}`);
    if (r.reason) lines.push(`  why: ${r.reason}`);
    for (const f of r.files) lines.push(`  wrote ${f}`);
    for (const u of r.untranslated)
      lines.push(`  untranslated: "${clip(u.node, 60)}" (${u.type} v${u.version}): ${u.message}`);
    for (const s of r.secrets) lines.push(`  secret ${s.name}: ${s.for}`);
    for (const i of r.integrations) lines.push(`  connect ${i.provider}: ${i.for}`);
    for (const s of r.setup) lines.push(`  setup: ${s}`);
    for (const n of r.notes) lines.push(`  note: ${n}`);
  }
  const t = report.totals;
  lines.push('');
  lines.push(
    `${t.workflows} workflows: ${t.converted} converted fully, ${t.partial} partially, ${t.refused} refused.`,
  );
  if (report.untranslatedTypes.length > 0)
    lines.push(
      `Untranslated node types: ${report.untranslatedTypes
        .slice(0, 10)
        .map((u) => `${u.type} (${u.count})`)
        .join(', ')}.`,
    );
  return lines.join('\n');
}
