/**
 * A table drawn as etcdctl draws it (olekukonko/tablewriter with right-aligned cells):
 * centred upper-case headers, `+---+` borders, one space of padding.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, col) => Math.max(width(header), ...rows.map((row) => width(row[col] ?? ''))));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const line = (cells: readonly string[], pad: (text: string, w: number) => string): string =>
    `|${widths.map((w, col) => ` ${pad(cells[col] ?? '', w)} `).join('|')}|\n`;
  return border + line(headers, center) + border + rows.map((row) => line(row, right)).join('') + border;
}

function width(text: string): number {
  return [...text].length;
}

function center(text: string, w: number): string {
  const gap = w - width(text);
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + text + ' '.repeat(gap - left);
}

function right(text: string, w: number): string {
  return ' '.repeat(w - width(text)) + text;
}
