/**
 * Chunking by tokens (cl100k_base, the tokenizer of OpenAI's embedding models): about
 * `target` tokens per chunk, broken at headings and paragraphs, with `overlap` tokens of the
 * previous chunk of the same section repeated at the start of the next so a sentence cut in
 * two is found whole in one of them. A paragraph longer than a chunk is cut by tokens.
 */

/**
 * The tokenizer's tables take about 35 MB of heap (65 MB of resident memory), so they are
 * loaded when the first document is chunked, not when the engine starts.
 */
type Codec = typeof import('gpt-tokenizer/encoding/cl100k_base');
let codec: Codec | undefined;

async function loadCodec(): Promise<Codec> {
  codec ??= await import('gpt-tokenizer/encoding/cl100k_base');
  return codec;
}

function encode(text: string): number[] {
  return codec!.encode(text);
}

function decode(ids: number[]): string {
  return codec!.decode(ids);
}

export interface Chunk {
  text: string;
  tokens: number;
  /** The heading the chunk falls under, when there is one. */
  heading?: string;
}

export interface ChunkOptions {
  /** Tokens per chunk, about. */
  target: number;
  /** Tokens of the previous chunk repeated at the start of the next one (same section). */
  overlap: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { target: 500, overlap: 50 };

interface Block {
  text: string;
  /** The block's token ids (encoded once: counts and overlaps come from them). */
  ids: number[];
  tokens: number;
  heading: boolean;
}

const HEADING = /^#{1,6}\s+\S/;

/** The token count of a text (cl100k_base). */
export async function countTokens(text: string): Promise<number> {
  return (await loadCodec()).encode(text).length;
}

function blocksOf(text: string, target: number): Block[] {
  const blocks: Block[] = [];
  for (const raw of text.split(/\n\s*\n/)) {
    const para = raw.trim();
    if (para === '') continue;
    // A heading line glued to its paragraph starts a section of its own.
    const lines = para.split('\n');
    let start = 0;
    for (let i = 0; i < lines.length; i++) {
      if (i > start && HEADING.test(lines[i]!)) {
        pushBlock(blocks, lines.slice(start, i).join('\n'), target);
        start = i;
      }
    }
    pushBlock(blocks, lines.slice(start).join('\n'), target);
  }
  return blocks;
}

function pushBlock(blocks: Block[], text: string, target: number): void {
  const heading = HEADING.test(text) && !text.includes('\n');
  const ids = encode(text);
  if (ids.length <= target) {
    blocks.push({ text, ids, tokens: ids.length, heading });
    return;
  }
  for (let i = 0; i < ids.length; i += target) {
    const slice = ids.slice(i, i + target);
    blocks.push({ text: decode(slice), ids: slice, tokens: slice.length, heading: false });
  }
}

/** The last `n` tokens of the blocks, as text, from their token ids (no second encoding). */
function tail(blocks: Block[], n: number): { text: string; ids: number[] } {
  const ids: number[] = [];
  for (let i = blocks.length - 1; i >= 0 && ids.length < n; i--) ids.unshift(...blocks[i]!.ids);
  const slice = ids.slice(Math.max(0, ids.length - n));
  return { text: decode(slice).trimStart(), ids: slice };
}

export async function chunkText(text: string, opts: ChunkOptions = DEFAULT_CHUNKING): Promise<Chunk[]> {
  await loadCodec();
  const chunks: Chunk[] = [];
  let parts: Block[] = [];
  let tokens = 0;
  let heading: string | undefined;
  let body = false;

  const flush = (carry: boolean) => {
    if (!body) return;
    chunks.push({ text: parts.map((p) => p.text).join('\n\n'), tokens, ...(heading ? { heading } : {}) });
    const previous = parts;
    parts = [];
    tokens = 0;
    body = false;
    if (carry && opts.overlap > 0) {
      const t = tail(previous, opts.overlap);
      parts.push({ text: t.text, ids: t.ids, tokens: t.ids.length, heading: false });
      tokens = t.ids.length;
    }
  };

  for (const block of blocksOf(text, opts.target)) {
    if (block.heading) {
      // A new section: the chunk so far ends, and nothing of it carries over.
      flush(false);
      heading = block.text.replace(/^#+\s+/, '').trim();
      // Headings with no text of their own stay above the next one.
      parts.push(block);
      tokens += block.tokens;
      continue;
    }
    if (body && tokens + block.tokens > opts.target) flush(true);
    parts.push(block);
    tokens += block.tokens;
    body = true;
  }
  if (!body && parts.length > 0 && chunks.length === 0) body = true; // a document of headings only
  flush(false);
  return chunks;
}
