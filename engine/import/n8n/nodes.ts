// One function per n8n node type: what Atlas construct it becomes. A mapping is a step, a
// branch (IF, Filter, Switch: conditions on the steps after it), a pass-through, a merge (as
// `needs`), the webhook route's response, or a Problem that becomes an explicit failing step.
import { Problem } from './expressions.ts';
import { type Mapper, type Mapping, type NodeContext, passThrough, shortType } from './node-kit.ts';
import { agent, openAiLangchain, openAiLegacy } from './nodes-ai.ts';
import {
  filterNode,
  ifNode,
  PENDING,
  respondToWebhook,
  setNode,
  stopAndError,
  switchNode,
} from './nodes-flow.ts';
import { httpRequest } from './nodes-http.ts';
import { aggregate, limit, loopOverItems, splitOut } from './nodes-items.ts';
import {
  emailSend,
  googleCalendar,
  googleDrive,
  outlook,
  social,
  stripe,
  teams,
  telegram,
} from './nodes-providers.ts';
import { executeWorkflow } from './nodes-subworkflow.ts';
import { dateTime, wait } from './nodes-time.ts';

export { type DataMap, type Mapping, type NodeContext, secretName, shortType } from './node-kit.ts';

const CODE: Record<string, string> = {
  code: 'JavaScript or Python code',
  function: 'JavaScript code',
  functionItem: 'JavaScript code',
};

export const MAPPERS: Record<string, { versions: [number, number]; map: Mapper }> = {
  set: { versions: [1, 3.4], map: setNode },
  if: { versions: [1, 2.2], map: ifNode },
  filter: { versions: [1, 2.2], map: filterNode },
  switch: { versions: [1, 3.2], map: switchNode },
  merge: { versions: [1, 3.1], map: () => ({ kind: 'merge' }) },
  noOp: {
    versions: [1, 1],
    map: () => ({ kind: 'step', uses: 'core.noop', with: {}, data: passThrough }),
  },
  stopAndError: { versions: [1, 1], map: stopAndError },
  respondToWebhook: { versions: [1, 1.4], map: respondToWebhook },
  httpRequest: { versions: [1, 4.2], map: httpRequest },
  wait: { versions: [1, 1.1], map: wait },
  splitOut: { versions: [1, 1], map: splitOut },
  splitInBatches: { versions: [3, 3], map: loopOverItems },
  aggregate: { versions: [1, 1], map: aggregate },
  limit: { versions: [1, 1], map: limit },
  dateTime: { versions: [2, 2], map: dateTime },
  executeWorkflow: { versions: [1, 1.2], map: executeWorkflow },
  telegram: { versions: [1, 1.2], map: telegram },
  stripe: { versions: [1, 1], map: stripe },
  microsoftOutlook: { versions: [1, 2], map: outlook },
  microsoftTeams: { versions: [1, 2], map: teams },
  googleCalendar: { versions: [1, 1.3], map: googleCalendar },
  googleDrive: { versions: [1, 3], map: googleDrive },
  emailSend: { versions: [1, 2.1], map: emailSend },
  linkedIn: { versions: [1, 1], map: social('linkedin') },
  twitter: { versions: [1, 2], map: social('x') },
  openAi: { versions: [1, 1.1], map: openAiLegacy },
  'langchain.openAi': { versions: [1, 1.8], map: openAiLangchain },
  'langchain.agent': { versions: [1, 2.2], map: agent },
  'langchain.chainLlm': { versions: [1, 1.7], map: agent },
};

/** Maps one (non-trigger) node; a Problem names what to write instead. */
export function mapNode(ctx: NodeContext): Mapping {
  const type = shortType(ctx.node.type);
  const code = CODE[type];
  if (code)
    return new Problem(
      `${code} is not translated; write its result as a core.set step over templates, or as a connector action`,
    );
  const mapper = MAPPERS[type];
  const known =
    mapper && ctx.node.typeVersion >= mapper.versions[0] && ctx.node.typeVersion <= mapper.versions[1];
  const later = PENDING[type];
  if (later && !known) return later(ctx);
  if (!mapper)
    return new Problem(
      'no Atlas connector for this node type; call its API with http.request or write a connector',
    );
  const [min, max] = mapper.versions;
  if (!known)
    return new Problem(
      `version ${ctx.node.typeVersion} of this node is not known to the importer (it knows ${min} to ${max})`,
    );
  return mapper.map(ctx);
}
