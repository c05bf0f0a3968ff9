import { describe, expect, it } from 'vitest';
import { lazyPort } from './lazy-port';

interface Counter {
  add(n: number): Promise<number>;
  fail(): Promise<never>;
}

class MemoryCounter implements Counter {
  private total = 0;
  async add(n: number) {
    this.total += n;
    return this.total;
  }
  async fail(): Promise<never> {
    throw new Error('refused');
  }
}

describe('lazyPort', () => {
  it('builds the adapter once, on the first call, and forwards every call to it', async () => {
    let loads = 0;
    const port = lazyPort<Counter>(
      async () => {
        loads++;
        return new MemoryCounter();
      },
      { add: true, fail: true },
    );
    expect(loads).toBe(0);
    expect(await Promise.all([port.add(1), port.add(2)])).toEqual([1, 3]);
    expect(await port.add(4)).toBe(7);
    expect(loads).toBe(1);
    await expect(port.fail()).rejects.toThrow('refused');
  });

  it('tries the load again after it failed', async () => {
    let loads = 0;
    const port = lazyPort<Counter>(
      async () => {
        if (++loads === 1) throw new Error('module not found');
        return new MemoryCounter();
      },
      { add: true, fail: true },
    );
    await expect(port.add(1)).rejects.toThrow('module not found');
    expect(await port.add(1)).toBe(1);
    expect(loads).toBe(2);
  });
});
