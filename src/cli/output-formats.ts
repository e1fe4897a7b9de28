/** The `-o, --output` formats, apart from their renderers so the root command names them without loading those. */
export const outputFormats = ['json', 'jsonc', 'table', 'tsv', 'none'] as const;
export type OutputFormat = (typeof outputFormats)[number];
