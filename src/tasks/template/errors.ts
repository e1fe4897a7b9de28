/** A template that cannot be parsed or rendered. `line` and `column` are 1-based in the source. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';

  constructor(
    templateName: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(`${templateName}:${line}: ${detail}`);
  }
}

/** The text being rendered and the name its errors carry (e.g. `acr-task.yaml`). */
export class TemplateSource {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {}

  /** An error located at `offset` (a UTF-16 index into the text). */
  error(offset: number, detail: string): TemplateError {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return new TemplateError(this.name, line, offset - lineStart + 1, detail);
  }
}
