import { defineConnector } from 'atlas-engine/sdk';
import { PROVIDERS } from './client.ts';
import { chat } from './lib/actions/chat.ts';
import { embeddings } from './lib/actions/embeddings.ts';

const keys = Object.values(PROVIDERS).map((p) => p.key);

/** OpenAI and OpenAI-compatible chat and embeddings (https://platform.openai.com/docs/api-reference). */
export const openai = defineConnector({
  id: 'openai',
  description: 'Chat completions with tools and embeddings on OpenAI, DeepSeek and Cerebras.',
  auth: { type: 'secret', secrets: keys, envFallback: Object.fromEntries(keys.map((k) => [k, k])) },
  baseUrl: PROVIDERS.openai.defaultBase,
  settings: [...keys, ...Object.values(PROVIDERS).flatMap((p) => (p.baseSetting ? [p.baseSetting] : []))],
  actions: [chat, embeddings],
});
