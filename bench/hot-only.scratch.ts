import { hotPartitionCeiling, measureHotPartition } from './calls';
import { startBenchStack } from './stack';

const stack = await startBenchStack();
for (const via of ['append', 'api'] as const) {
  for (const [writers, appendsPerWriter] of [
    [1, 40],
    [4, 20],
    [16, 10],
    [64, 5],
  ] as const) {
    const h = await measureHotPartition(stack, { writers, appendsPerWriter, via });
    console.log(JSON.stringify({ ...h, ceiling: hotPartitionCeiling(h.hottestItemWritesPerAppend, 1) }));
  }
}
await (stack as any).close?.();
process.exit(0);
