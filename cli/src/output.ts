import { styleText } from 'node:util';

/** Where a command writes, and how: tables for people at a terminal, JSON for scripts. */
export interface OutputOptions {
  json: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export type Cell = string | number | boolean | null | undefined;

/** A column of a table: its heading and how to get the cell from a row. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => Cell;
  align?: 'left' | 'right';
}

export class Output {
  readonly json: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
  readonly colour: boolean;
  readonly stderrIsTty: boolean;

  constructor({ json, stdout = process.stdout, stderr = process.stderr, env = process.env }: OutputOptions) {
    this.json = json;
    this.stdout = stdout;
    this.stderr = stderr;
    const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.colour = Boolean(stdout.isTTY) && !noColour && env.TERM !== 'dumb';
    this.stderrIsTty = Boolean(stderr.isTTY);
  }

  /** One JSON document on stdout (with `--json`), pretty on a terminal, compact otherwise. */
  writeJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, this.stdout.isTTY ? 2 : undefined)}\n`);
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A message for people (progress, summaries, notices): always stderr, so stdout stays data. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  bold(text: string): string {
    return this.colour ? styleText('bold', text) : text;
  }

  dim(text: string): string {
    return this.colour ? styleText('dim', text) : text;
  }

  /** `--json`: the data as is; otherwise a table with aligned columns (or a note when empty). */
  table<Row>(rows: Row[], columns: Column<Row>[], json: unknown = rows, empty = '(none)'): void {
    if (this.json) {
      this.writeJson(json);
      return;
    }
    if (rows.length === 0) {
      this.note(empty);
      return;
    }
    this.stdout.write(renderTable(rows, columns, (h) => this.bold(h)));
  }

  /** `--json`: the data; otherwise `label: value` lines. */
  fields(pairs: [string, Cell][], json: unknown): void {
    if (this.json) {
      this.writeJson(json);
      return;
    }
    const width = Math.max(...pairs.map(([label]) => label.length));
    for (const [label, value] of pairs) this.line(`${this.bold(`${label}:`.padEnd(width + 1))} ${cellText(value)}`);
  }
}

export const cellText = (cell: Cell): string => (cell === null || cell === undefined ? '-' : String(cell));

/** Plain aligned columns, as kubectl and rpk print them: no borders, two spaces apart. */
export const renderTable = <Row>(rows: Row[], columns: Column<Row>[], heading = (h: string) => h): string => {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const render = (row: string[], style = (text: string) => text) =>
    `${row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const padded = columns[i]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
        return style(padded);
      })
      .join('  ')
      .trimEnd()}\n`;
  return render(
    columns.map((c) => c.header),
    heading,
  ).concat(...cells.map((row) => render(row)));
};
