import { defaultWasmUrl } from '../dist/internal.js';
import { loadKernelBuild, kernelCalls, packedForward } from './kernels.js';
import { makeOperands } from './operands.js';
import { readLoop } from './peak.js';
const build = (process.argv[2] ?? 'relaxed') as 'fixed' | 'relaxed';
const kb = await loadKernelBuild(build, defaultWasmUrl(build));
const time = (call: () => unknown, bytes: number) => {
  for (let i = 0; i < 30; i++) call();
  const t: number[] = [];
  for (let r = 0; r < 21; r++) { const s = performance.now(); for (let i = 0; i < 10; i++) call(); t.push((performance.now() - s) / 10); }
  t.sort((a, b) => a - b); return bytes / (t[10] * 1e6);
};
for (const s of (process.argv[3] ?? '1x1000x1000,1x1024x1024,1x4096x1024,1x768x3072').split(',')) {
  const [batch, inFeatures, outFeatures] = s.split('x').map(Number);
  const ops = makeOperands({ name: s, batch, inFeatures, outFeatures } as any);
  const calls = kernelCalls(kb, ops), packed = packedForward(kb, ops);
  const bytes = inFeatures * outFeatures * 4;
  const loop = await readLoop(bytes);
  const f = calls.call({ pass: 'forward' } as any), p = packed.call();
  const rows: string[] = [];
  for (let round = 0; round < 3; round++) rows.push(`in-place ${time(f, bytes).toFixed(0)} packed ${time(p, bytes).toFixed(0)} loop ${time(loop, bytes).toFixed(0)}`);
  console.log(s, build, rows.join(' | '));
  packed.dispose(); calls.dispose();
}
