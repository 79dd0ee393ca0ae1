import { describe, expect, it } from 'vitest';
import { chunkText, countTokens } from '../../engine/kb/chunk.ts';
import { DocumentError, extract } from '../../engine/kb/extract.ts';
import { makeDocx, makePdf } from './fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s);

async function rejection(p: Promise<unknown>): Promise<DocumentError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DocumentError);
  return err as DocumentError;
}

describe('text extraction', () => {
  it('reads plain text, Markdown (title from the first heading) and JSON leaves', async () => {
    expect(await extract(enc('hello\r\nworld\n\n\n\nagain'), { name: 'a.txt' })).toEqual({
      kind: 'text',
      text: 'hello\nworld\n\nagain',
    });
    const md = await extract(enc('# Refunds\n\nWithin 14 days.'), { name: 'refunds.md' });
    expect(md).toMatchObject({ kind: 'markdown', title: 'Refunds' });
    const json = await extract(enc('{"plan":{"name":"Pro","seats":[5,10]}}'), {
      contentType: 'application/json',
    });
    expect(json.text).toBe('plan.name: Pro\nplan.seats[0]: 5\nplan.seats[1]: 10');
  });

  it('drops scripts and styles from HTML, keeps headings and the title', async () => {
    const script = `<script>${'var x = "<p>not text</p>";'.repeat(100_000)}</script>`;
    const html = `<!doctype html><html><head><title>Plans &amp; prices</title><style>p{color:red}</style></head>
      <body>${script}<h2>Pro plan</h2><p>Costs <b>20&nbsp;EUR</b> a month.</p><noscript>enable js</noscript></body></html>`;
    expect(html.length).toBeGreaterThan(2_000_000);
    const out = await extract(enc(html), { name: 'page.html' });
    expect(out).toEqual({
      kind: 'html',
      title: 'Plans & prices',
      text: '## Pro plan\n\nCosts 20 EUR a month.',
    });
  });

  it('an HTML page of megabytes of script and nothing else is an empty document', async () => {
    const html = `<html><body><script>${'x=1;'.repeat(1_000_000)}</script></body></html>`;
    expect((await rejection(extract(enc(html), { contentType: 'text/html' }))).reason).toBe('empty');
  });

  it('reads a PDF page by page, with its title', async () => {
    const pdf = makePdf([['Refund policy', 'Refunds are paid within 14 days.'], ['Page two (second)']], {
      title: 'Policies',
    });
    const out = await extract(pdf, { name: 'policy.pdf' });
    expect(out.kind).toBe('pdf');
    expect(out.title).toBe('Policies');
    expect(out.text).toContain('Refunds are paid within 14 days.');
    expect(out.text).toContain('Page two (second)');
  });

  it('refuses a PDF with 10,000 pages, one with no readable text, and one that is not a PDF', async () => {
    const huge = makePdf([['one line']], { copies: 10_000 });
    const tooMany = await rejection(extract(huge));
    expect(tooMany.reason).toBe('too_many_pages');
    expect(tooMany.message).toBe('the PDF has 10000 pages; at most 2000 are read');
    expect((await rejection(extract(makePdf([[], []])))).reason).toBe('no_text');
    expect((await rejection(extract(enc('%PDF-1.4\ngarbage')))).reason).toBe('unreadable_pdf');
  });

  it('reads a DOCX, its headings as Markdown headings', async () => {
    const docx = makeDocx([
      '# Onboarding',
      'New staff get a laptop on day one.',
      'Badges come from reception.',
    ]);
    const out = await extract(docx, { name: 'onboarding.docx' });
    expect(out).toEqual({
      kind: 'docx',
      title: 'Onboarding',
      text: '# Onboarding\n\nNew staff get a laptop on day one.\n\nBadges come from reception.',
    });
  });

  it('refuses a DOCX zip bomb by its declared sizes, and a damaged zip', async () => {
    const bomb = makeDocx(['hi'], { 'word/media/zeros.bin': new Uint8Array(20 * 1024 * 1024) });
    expect(bomb.length).toBeLessThan(100_000);
    const err = await rejection(extract(bomb, { name: 'bomb.docx' }));
    expect(err.reason).toBe('too_large');
    expect(err.message).toMatch(/zip bomb/);
    const limited = await rejection(
      extract(makeDocx(['hi']), { limits: { maxPages: 10, maxUnpackedBytes: 100 } }),
    );
    expect(limited.message).toMatch(/at most 100 are allowed/);
    expect((await rejection(extract(enc('PK\u0003\u0004 not really a zip')))).reason).toBe('unreadable_docx');
  });

  it('measures a DOCX by what it really inflates to, not by the sizes its zip declares', async () => {
    // Every entry claims to unpack to 100 bytes; zeros.bin really inflates to 20 MB.
    const liar = makeDocx(['hi'], { 'word/media/zeros.bin': new Uint8Array(20 * 1024 * 1024) }, () => 100);
    expect(liar.length).toBeLessThan(100_000);
    const err = await rejection(extract(liar, { name: 'liar.docx' }));
    expect(err.reason).toBe('too_large');
    expect(err.message).toMatch(/zip bomb/);
    // Under an absolute limit the inflation stops at the limit, whatever the zip declares.
    const small = makeDocx(['hi'], { 'word/media/a.bin': new Uint8Array(5000).fill(7) }, () => 1);
    const limited = await rejection(
      extract(small, { name: 'small.docx', limits: { maxPages: 10, maxUnpackedBytes: 4000 } }),
    );
    expect(limited.message).toMatch(/more than 4000 bytes/);
    // A small document whose sizes lie passes the bomb check, and is then refused as unreadable.
    const small2 = makeDocx(['# Title', 'Real text here.'], {}, () => 1);
    expect((await rejection(extract(small2, { name: 'small2.docx' }))).reason).toBe('unreadable_docx');
  });

  it('refuses invalid UTF-8 and empty documents', async () => {
    const bad = new Uint8Array([0x68, 0x69, 0xc3, 0x28, 0xff]);
    const err = await rejection(extract(bad, { name: 'x.txt' }));
    expect([err.reason, err.message]).toEqual(['invalid_utf8', 'the document is not valid UTF-8 text']);
    expect((await rejection(extract(enc('  \n\n '), { name: 'x.md' }))).reason).toBe('empty');
  });
});

describe('chunking', () => {
  const para = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

  it('keeps chunks near the target, breaks at headings, overlaps within a section', async () => {
    const text = [
      '# Alpha',
      para(150, 'alpha'), // about 300 tokens each
      para(150, 'beta'),
      '# Gamma',
      'short gamma paragraph',
    ].join('\n\n');
    const chunks = await chunkText(text, { target: 500, overlap: 50 });
    expect(chunks.map((c) => c.heading)).toEqual(['Alpha', 'Alpha', 'Gamma']);
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(560);
    expect(chunks[0]!.text.startsWith('# Alpha')).toBe(true);
    // The second chunk starts with the tail of the first (overlap), then the next paragraph.
    expect(chunks[1]!.text).toContain('alpha149');
    expect(chunks[1]!.text).toContain('beta0');
    expect(chunks[1]!.text).not.toContain('alpha0 ');
    // A new section carries nothing over.
    expect(chunks[2]!.text).toBe('# Gamma\n\nshort gamma paragraph');
  });

  it('cuts a paragraph longer than a chunk by tokens', async () => {
    const long = para(2000, 'w');
    const chunks = await chunkText(long, { target: 500, overlap: 0 });
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(500);
    expect(chunks.reduce((n, c) => n + c.tokens, 0)).toBe(await countTokens(long));
  });
});
