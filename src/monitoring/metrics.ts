import { bucketQuantile } from "./bucket-quantile.js";
/**
 * Counters, gauges and histograms with labels, rendered in Prometheus' text format. Small on
 * purpose: the hot path only increments numbers in maps.
 */
type Labels = Readonly<Record<string, string>>;

const labelText = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

abstract class Metric {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  protected slot(labels: Labels): { labels: Labels; value: number } {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { labels, value: 0 }));
    return s;
  }

  value(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.series.values()) lines.push(`${this.name}${labelText(s.labels)} ${s.value}`);
    return lines.join("\n");
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }

  inc(labels: Labels = {}, by = 1): void {
    this.slot(labels).value += by;
  }

  /** A handle for one label set, for hot paths (no label text built per increment). */
  bind(labels: Labels): { inc(by?: number): void } {
    const slot = this.slot(labels);
    return { inc: (by = 1) => void (slot.value += by) };
  }
}

export class Gauge extends Metric {
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }

  set(value: number, labels: Labels = {}): void {
    this.slot(labels).value = value;
  }
}

/** Cumulative buckets, as Prometheus expects; `observe` is a short scan over the bounds. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    this.bind(labels).observe(value);
  }

  /** A handle for one label set, for hot paths; `observeAll` for many values at once (a stream commit's hundreds of thousands). */
  bind(labels: Labels): { observe(value: number): void; observeAll(values: ArrayLike<number>): void } {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { labels, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 }));
    const series = s;
    const bounds = this.bounds;
    // The first bucket whose bound holds the value (bounds.length: only +Inf, as for NaN); it and every later one count it.
    const firstBucket = (value: number): number => {
      let i = 0;
      while (i < bounds.length && !(value <= bounds[i]!)) i++;
      return i;
    };
    return {
      observe: (value: number): void => {
        for (let i = firstBucket(value); i < bounds.length; i++) series.counts[i]!++;
        series.sum += value;
        series.count++;
      },
      observeAll: (values: ArrayLike<number>): void => {
        // Each value into its first bucket only, then the buckets made cumulative once.
        const first = new Float64Array(bounds.length + 1);
        let sum = 0;
        for (let v = 0; v < values.length; v++) {
          first[firstBucket(values[v]!)]!++;
          sum += values[v]!;
        }
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += first[i]!;
          series.counts[i]! += cumulative;
        }
        series.sum += sum;
        series.count += values.length;
      },
    };
  }

  count(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.count ?? 0;
  }

  /** The q-quantile of one label set's observations (see bucketQuantile); null when none. */
  quantile(q: number, labels: Labels = {}): number | null {
    const s = this.series.get(labelText(labels));
    if (s === undefined) return null;
    return bucketQuantile([...this.bounds.map((b, i): [number, number] => [b, s.counts[i]!]), [Infinity, s.count]], q);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join("\n");
  }
}

export class MetricsRegistry {
  private readonly metrics: { render(): string }[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bounds));
  }

  private add<T extends { render(): string }>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics.map((m) => m.render()).join("\n")}\n`;
  }
}

/** Seconds, from 100 µs to 10 s: request latency and populate lag alike. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
