// The n8n OpenAI and LangChain nodes (chat, AI Agent, LLM chain) as openai.chat steps.
import { isProblem, Problem } from './expressions.ts';
import {
  fields,
  isObject,
  locatorValue,
  type Mapping,
  type NodeContext,
  shortType,
  step,
  templates,
} from './node-kit.ts';

function chatMessages(list: unknown, ctx: NodeContext): unknown {
  if (!Array.isArray(list)) return new Problem('the prompt has no messages');
  const out: unknown[] = [];
  for (const m of list) {
    if (!isObject(m)) continue;
    const content = templates(m['content'] ?? '', ctx);
    if (isProblem(content)) return content;
    out.push({ role: String(m['role'] ?? 'user'), content });
  }
  return out.length > 0 ? out : new Problem('the prompt has no messages');
}

/** Another resource or operation of the OpenAI node than the one chat call Atlas maps. */
function otherOperation(p: Record<string, unknown>, operation: string): Problem {
  return new Problem(
    `OpenAI ${String(p['resource'] ?? 'text')} ${String(p['operation'] ?? operation)}; Atlas has openai.chat and openai.embeddings`,
  );
}

/** One openai.chat step whose answer later nodes read as `message.content`. */
function chatStep(
  model: unknown,
  messages: unknown,
  options: Record<string, unknown>,
  ctx: NodeContext,
): Mapping {
  return step(
    'openai.chat',
    fields({
      model: templates(model, ctx),
      messages: chatMessages(messages, ctx),
      temperature: options['temperature'],
      max_tokens: options['maxTokens'],
    }),
    (path) =>
      path.join('.') === 'message.content'
        ? ['content']
        : new Problem('an OpenAI answer field other than message.content'),
  );
}

export function openAiLegacy(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (String(p['resource'] ?? 'text') !== 'chat' || String(p['operation'] ?? 'complete') !== 'complete')
    return otherOperation(p, 'complete');
  ctx.secret('OPENAI_API_KEY', 'the OpenAI API key');
  const options = isObject(p['options']) ? p['options'] : {};
  const prompt = isObject(p['prompt']) ? p['prompt']['messages'] : undefined;
  return chatStep(p['model'] ?? 'gpt-3.5-turbo', prompt, options, ctx);
}

export function openAiLangchain(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (String(p['resource'] ?? 'text') !== 'text' || String(p['operation'] ?? 'message') !== 'message')
    return otherOperation(p, 'message');
  const options = isObject(p['options']) ? p['options'] : {};
  if (p['jsonOutput'] === true || (isObject(p['tools']) && Object.keys(p['tools']).length > 0))
    return new Problem('JSON output or tools; write an Agent manifest');
  ctx.secret('OPENAI_API_KEY', 'the OpenAI API key');
  const messages = isObject(p['messages']) ? p['messages']['values'] : undefined;
  return chatStep(locatorValue(p['modelId']) ?? 'gpt-4o-mini', messages, options, ctx);
}

/** An AI Agent or Basic LLM Chain with one OpenAI chat model and no tools or memory: one chat call. */
export function agent(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (
    ctx.attached('ai_tool').length > 0 ||
    ctx.attached('ai_memory').length > 0 ||
    ctx.attached('ai_outputParser').length > 0
  )
    return new Problem(
      'an agent with tools, memory or an output parser: write an Agent manifest with those tools and call it with agent.run',
    );
  const models = ctx.attached('ai_languageModel');
  const model = models[0];
  if (models.length !== 1 || !model || shortType(model.type) !== 'langchain.lmChatOpenAi')
    return new Problem('a chat model other than one OpenAI model; write an Agent manifest for it');
  ctx.secret(
    'OPENAI_API_KEY',
    `the OpenAI key of n8n credential "${model.credentials['openAiApi']?.name ?? 'openAiApi'}"`,
  );
  const modelOptions = isObject(model.parameters['options']) ? model.parameters['options'] : {};
  const options = isObject(p['options']) ? p['options'] : {};
  const promptType = String(p['promptType'] ?? 'auto');
  const text = promptType === 'define' ? p['text'] : '={{ $json.chatInput }}';
  const user = templates(text ?? '', ctx);
  if (isProblem(user)) return user;
  const messages: unknown[] = [];
  const system = options['systemMessage'];
  if (typeof system === 'string' && system !== '') {
    const s = templates(system, ctx);
    if (isProblem(s)) return s;
    messages.push({ role: 'system', content: s });
  }
  messages.push({ role: 'user', content: user });
  return step(
    'openai.chat',
    fields({
      model: templates(locatorValue(model.parameters['model']) ?? 'gpt-4o-mini', ctx),
      messages,
      temperature: modelOptions['temperature'],
      max_tokens: modelOptions['maxTokens'],
    }),
    (path) =>
      path.join('.') === 'output' || path.join('.') === 'text'
        ? ['content']
        : new Problem('an agent answer field other than output'),
    `n8n ${shortType(ctx.node.type)} with ${model.name}: one chat completion`,
  );
}
