// Step ids, YAML comments and failing steps made from n8n node names, notes and problems.

import { Document, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { N8nNode } from './export.ts';
import { clip, type Problem } from './problem.ts';

/** A step id from an n8n node name: `HTTP Request` → `httpRequest`. */
export function stepIdFor(name: string, taken: Set<string>): string {
  const words = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  let id = words
    .map((w, i) =>
      i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join('');
  if (!/^[a-z]/.test(id)) id = `n${id}`;
  id = id.slice(0, 56) || 'step';
  let unique = id;
  for (let n = 2; taken.has(unique); n++) unique = `${id}_${n}`;
  taken.add(unique);
  return unique;
}

/** Sticky-note and node text as a YAML comment: no line breaks YAML would read as content. */
export function commentText(text: string, max = 2000): string {
  const flat = text.replace(/\r\n?|[\u0085\u2028\u2029]/g, '\n');
  return (flat.length > max ? `${flat.slice(0, max - 1)}…` : flat)
    .replace(/\p{Cc}/gu, (c) => (c === '\n' ? c : ''))
    .split('\n')
    .map((line) => ` ${line.trimEnd()}`)
    .join('\n');
}

/** The explicit failing step an untranslated node becomes, and its entry in the report. */
export function untranslatedStep(node: N8nNode, problem: Problem) {
  // The message quotes n8n text; braces in it must not become templates when the step renders it.
  const message =
    `n8n node "${clip(node.name, 60)}" (${node.type} v${node.typeVersion}) was not translated: ${problem.message}`
      .replaceAll('{{', '{ {')
      .replaceAll('}}', '} }');
  return {
    entry: {
      node: node.name,
      type: node.type,
      version: node.typeVersion,
      message: problem.message,
      ...(problem.needs ? { needs: problem.needs } : {}),
      ...(problem.upstream ? { upstream: true as const } : {}),
    },
    step: { uses: 'core.fail', with: { kind: 'fatal', code: 'n8n_untranslated', message } },
  };
}

/** The index of the step whose YAML holds a 1-based line, or undefined when none does. */
export function stepAtLine(text: string, line: number): number | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const steps = isMap(doc.contents) ? doc.contents.get('steps', true) : undefined;
  if (!isSeq(steps)) return undefined;
  const index = steps.items.findIndex((item) => {
    const range = (item as { range?: [number, number, number] }).range;
    if (!range) return false;
    return (
      counter.linePos(range[0]).line <= line && line <= counter.linePos(Math.max(range[0], range[1] - 1)).line
    );
  });
  return index === -1 ? undefined : index;
}

/** A file name from a workflow name: `WF-100-stripe-to-telegram.yaml`. */
export function fileName(id: string, name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${id}${slug ? `-${slug}` : ''}.yaml`;
}

/** YAML with the n8n node types, notes and untranslated nodes as comments. */
export function toYaml(
  manifest: Record<string, unknown>,
  top: string[],
  stepComments: string[][] = [],
): string {
  const doc = new Document(manifest, { aliasDuplicateObjects: false });
  if (top.length > 0) doc.commentBefore = top.join('\n\n');
  const steps = isMap(doc.contents) ? doc.contents.get('steps', true) : undefined;
  if (isSeq(steps))
    steps.items.forEach((item, i) => {
      const c = stepComments[i];
      if (c && c.length > 0 && item && typeof item === 'object')
        (item as { commentBefore?: string }).commentBefore = c.join('\n');
    });
  return doc.toString({ lineWidth: 0 });
}
