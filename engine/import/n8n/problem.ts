// What the importer cannot translate (a Problem naming what to write instead), and the paths it reads.

export type Segment = string | number;
export type Path = Segment[];

/** Where an n8n item field lives in the Atlas run scope; `null` node means `$json` (the input item). */
export type Resolver = (node: string | null, path: Path) => Path | Problem;

export class Problem {
  constructor(
    readonly message: string,
    /** The Atlas construct that will translate it once the language has it (`$expr`...). */
    readonly needs?: string,
    /** It only reads a node that was not translated itself. */
    readonly upstream = false,
  ) {}
}

export const isProblem = (value: unknown): value is Problem => value instanceof Problem;

export function clip(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
