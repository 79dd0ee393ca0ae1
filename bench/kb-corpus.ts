// The corpus of bench/kb.ts: prose-like text from a vocabulary of common English words with a
// Zipf-like frequency and 20,000 rarer terms, reproducible from a fixed seed: it tokenizes and
// indexes like real documents, without shipping a corpus.
let seed = 42;
export const random = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
export const WORDS =
  `the of and to in is that for it as with was on be by this are from at or an have not which but all were when we there can more if their has one will about would so been other its into some these what them only time than also may two any new first then people could after over most where very many through back years way work even well because each should while state part both under made life same another such between great every world year own need own public used place long still right system point group number order few course case fact hand high small large local policy service customer refund invoice payment account order shipping warehouse parcel delivery product price plan seat team office staff manager support ticket email report data file document contract supplier client project budget meeting training laptop badge holiday request approval security password access network server backup process quality safety incident review release schedule deadline month week day hour morning evening note letter form card bank transfer tax rate discount offer sale market share growth revenue cost profit loss target goal risk issue change update version feature bug test deploy build code design research legal compliance audit privacy consent record archive storage region country city address phone`.split(
    ' ',
  );
// Beside them, 20,000 rarer terms (names, codes, jargon), one word in six: a real corpus's
// vocabulary is large, and queries name at least one of its rarer words.
const syllables = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'pe',
  'da',
  'gu',
  'ha',
  'ze',
  'bo',
  'fi',
  'wu',
];
export const RARE = Array.from({ length: 20_000 }, (_, i) => {
  let w = '';
  for (let n = i + 4096; n > 0; n = Math.floor(n / 16)) w += syllables[n % 16];
  return w;
});
export const VOCAB = WORDS;
export const rare = () => RARE[Math.floor(RARE.length * random())]!;
export const word = () => (random() < 1 / 6 ? rare() : VOCAB[Math.floor(VOCAB.length * random() ** 2)]!);
export const sentence = () => {
  const n = 8 + Math.floor(random() * 12);
  const s = Array.from({ length: n }, word).join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
};
export function markdown(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    const part =
      random() < 0.1
        ? `## Section ${++section} ${word()}`
        : Array.from({ length: 4 + Math.floor(random() * 4) }, sentence).join(' ');
    parts.push(part);
    size += part.length + 2;
  }
  return parts.join('\n\n');
}
