// `npm run example:finetune` as a user runs it (fewer epochs): the frozen MNIST MLP, adapted by
// rank-4 LoRA to digits shifted by three pixels, recovers most of its accuracy with adapters a
// small fraction of the model's size.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

test('the fine-tuning example recovers ≥ 90% of the unshifted accuracy on f32 and int8 bases, adapters < 5% of the model', () => {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const output = execFileSync(process.execPath, [tsx, 'examples/finetune-mnist.ts', '--epochs', '4'], { timeout: 120_000 }).toString();
  const rows = [...output.matchAll(/^(f32|int8) .*?→ ([\d.]+)% \(([\d.]+)% of the unshifted.*?= ([\d.]+)% of the f32 model/gm)];
  expect(rows.map((r) => r[1]), output).toEqual(['f32', 'int8']);
  for (const [, , , share, size] of rows) {
    expect(Number(share), output).toBeGreaterThanOrEqual(90);
    expect(Number(size), output).toBeLessThan(5);
  }
}, 180_000);
