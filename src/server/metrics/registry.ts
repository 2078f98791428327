/**
 * A small Prometheus registry: counters, gauges (set or computed at scrape time) and
 * histograms, rendered in the text exposition format. Metric names follow etcd's where
 * etcd has one, so dashboards and alerts written for etcd keep working.
 */
type Labels = Record<string, string>;

interface Metric {
  render(): string;
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  render(): string {
    let out = header(this.name, this.help, 'counter');
    if (this.values.size === 0) out += `${this.name} 0\n`;
    for (const { labels, value } of this.values.values()) out += `${this.name}${labelText(labels)} ${value}\n`;
    return out;
  }
}

export class Gauge implements Metric {
  private value = 0;
  constructor(readonly name: string, readonly help: string, private readonly collect?: () => number) {}

  set(value: number): void {
    this.value = value;
  }

  render(): string {
    return `${header(this.name, this.help, 'gauge')}${this.name} ${this.collect ? this.collect() : this.value}\n`;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.counts[i]!++;
    });
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    this.buckets.forEach((bound, i) => {
      out += `${this.name}_bucket{le="${bound}"} ${this.counts[i]}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

/** etcd's disk latency buckets: 1 ms doubling up to ~8 s. */
export const diskSecondsBuckets: readonly number[] = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  private add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}
