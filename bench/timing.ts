// Times calls with tinybench. Each call is probed (how long is one call? too slow to keep?),
// then sampled in rounds: the contenders of a shape take turns round by round, and the median
// is taken over all rounds' samples, so a burst of noise from a neighbour on this shared machine
// spoils part of every contender's samples rather than all of one contender's.
import { Bench } from 'tinybench';

/** One call of a contender: sync, or async (onnxruntime-web), which tinybench awaits. */
export type Call = () => unknown;

interface Budget { warmupMs: number; warmupIterations: number; timeMs: number; iterations: number }

/** How long to measure; `--quick` trades precision for a short smoke run. */
export interface Plan {
  rounds: number;
  /** Per round; warm-up matters in the first: V8 runs wasm in Liftoff first and tiers a function
   *  up to TurboFan in the background after enough calls, and the first calls read low without it. */
  first: Budget;
  /** Per later round: a short warm-up, since the other contenders' rounds have evicted the caches. */
  next: Budget;
  /** Per round, for calls slower than slowCallSeconds: the probes warmed them up, and a few samples do. */
  slow: Budget;
  slowCallSeconds: number;
  /** Scales the contenders' skip limits (ml-matrix, JS loops); lower in quick runs. */
  limitScale: number;
}

export const plans: Record<'full' | 'quick', Plan> = {
  full: {
    rounds: 3,
    first: { warmupMs: 120, warmupIterations: 8, timeMs: 120, iterations: 4 },
    next: { warmupMs: 20, warmupIterations: 2, timeMs: 120, iterations: 4 },
    slow: { warmupMs: 0, warmupIterations: 0, timeMs: 0, iterations: 1 },
    slowCallSeconds: 0.15,
    limitScale: 1,
  },
  quick: {
    rounds: 1,
    first: { warmupMs: 20, warmupIterations: 3, timeMs: 50, iterations: 3 },
    next: { warmupMs: 0, warmupIterations: 0, timeMs: 50, iterations: 3 },
    slow: { warmupMs: 0, warmupIterations: 0, timeMs: 0, iterations: 1 },
    slowCallSeconds: 0.05,
    limitScale: 0.25,
  },
};

async function seconds(call: Call): Promise<number> {
  const start = performance.now();
  await call();
  return (performance.now() - start) / 1e3;
}

/** Median of samples, interpolated between the middle two as tinybench does. */
function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)] + sorted[Math.ceil(mid)]) / 2;
}

/** A call being sampled round by round. */
export class Timer {
  private readonly samples: number[] = [];
  private rounds = 0;

  private constructor(private readonly call: Call, private readonly plan: Plan, private readonly slow: boolean) {}

  /**
   * Probe calls (untimed by tinybench) start V8's tier-up and tell how long a call is: over
   * `maxCallSeconds` there is no Timer but a reason to skip. A slow first call is judged again
   * by a second, since first calls run unoptimised JS (ml-matrix, the JS loops).
   */
  static async start(call: Call, plan: Plan, maxCallSeconds = Infinity): Promise<Timer | { skipped: string }> {
    let probe = await seconds(call);
    if (probe > plan.slowCallSeconds && probe < 2 * maxCallSeconds) probe = await seconds(call);
    if (probe > maxCallSeconds) return { skipped: `a call took ${probe.toFixed(2)} s (limit ${maxCallSeconds} s)` };
    return new Timer(call, plan, probe > plan.slowCallSeconds);
  }

  async round(): Promise<void> {
    const budget = this.slow ? this.plan.slow : this.rounds++ === 0 ? this.plan.first : this.plan.next;
    const bench = new Bench({
      warmup: budget.warmupIterations > 0,
      warmupTime: budget.warmupMs,
      warmupIterations: budget.warmupIterations,
      time: budget.timeMs,
      iterations: budget.iterations,
      retainSamples: true,
      throws: true,
    });
    bench.add('call', this.call);
    await bench.run();
    const { result } = bench.tasks[0];
    if (result.state !== 'completed' || !result.latency.samples) throw new Error(`tinybench ended in state ${result.state}`);
    // A loop, not push(...samples): sub-µs calls give hundreds of thousands, past the argument limit.
    for (const sample of result.latency.samples) this.samples.push(sample);
  }

  /** p50 latency over every round's samples, in ms. */
  result(): { p50Ms: number; samples: number } {
    return { p50Ms: median(this.samples), samples: this.samples.length };
  }
}
