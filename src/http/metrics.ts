import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  galleries(): { name: string; entryCount: number }[];
  queue(): { inFlight: number; queued: number };
}

/** Prometheus metrics, one registry per app so that tests can build several apps. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly stages: Histogram<'stage' | 'route'>;
  readonly rejected: Counter<'code'>;

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'spotter_' });
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requests = new Histogram({
      name: 'spotter_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status'], buckets, registers: [this.registry],
    });
    this.stages = new Histogram({
      name: 'spotter_stage_duration_seconds', help: 'Cascade stage latency', labelNames: ['stage', 'route'], buckets, registers: [this.registry],
    });
    this.rejected = new Counter({ name: 'spotter_errors_total', help: 'Error responses by code', labelNames: ['code'], registers: [this.registry] });
    new Gauge({
      name: 'spotter_gallery_entries', help: 'Entries per gallery', labelNames: ['gallery'], registers: [this.registry],
      collect() {
        this.reset();
        for (const g of sources.galleries()) this.set({ gallery: g.name }, g.entryCount);
      },
    });
    new Gauge({
      name: 'spotter_inference_in_flight', help: 'Requests running models now', registers: [this.registry],
      collect() { this.set(sources.queue().inFlight); },
    });
    new Gauge({
      name: 'spotter_inference_queued', help: 'Requests waiting for the models', registers: [this.registry],
      collect() { this.set(sources.queue().queued); },
    });
  }

  observeStages(route: string, timings: Record<string, number>): void {
    for (const [stage, ms] of Object.entries(timings)) this.stages.observe({ stage, route }, ms / 1000);
  }

  register(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}
