import { describe, expect, it } from 'vitest';
import { renderTable } from './output';

describe('renderTable', () => {
  it('aligns columns, right-aligning numbers where asked', () => {
    const rows = [
      { name: 'orders', partitions: 12 },
      { name: 'a', partitions: 1 },
    ];
    const table = renderTable(rows, [
      { header: 'NAME', value: (r) => r.name },
      { header: 'PARTITIONS', value: (r) => r.partitions, align: 'right' },
    ]);
    expect(table).toBe('NAME    PARTITIONS\norders          12\na                1\n');
  });

  it('prints missing cells as a dash', () => {
    expect(renderTable([{ lag: null }], [{ header: 'LAG', value: (r) => r.lag }])).toBe('LAG\n-\n');
  });
});
