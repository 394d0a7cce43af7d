// The hot-path metrics: counters and a histogram counted with plain arithmetic and handed to
// prom-client when read. Read here through prom-client's own registry and cluster aggregation,
// exactly as /metrics reads them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../../src/server/metrics.js';
import { metricValue } from './requests.js';

function counter(registry: Registry) {
  return new CellCounter({
    name: 'test_requests_total',
    help: 'requests',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
}

function histogram(registry: Registry) {
  return new CellHistogram('test_duration_seconds', 'durations', 'route', [0.001, 0.01, 0.1], registry);
}

describe('hot-path metrics', () => {
  it('counts into cells and keeps the total across reads', async () => {
    const registry = new Registry();
    const c = counter(registry);
    const ok = c.cell({ route: '/', status: 200 });
    assert.equal(c.cell({ route: '/', status: 200 }), ok, 'one cell per label set');
    ok.n++;
    ok.n++;
    c.inc({ route: '/', status: 404 });
    let text = await registry.metrics();
    assert.equal(metricValue(text, 'test_requests_total', { route: '/', status: '200' }), 2);
    assert.equal(metricValue(text, 'test_requests_total', { route: '/', status: '404' }), 1);
    assert.match(text, /^test_requests_total\{route="\/",status="404"\} 1$/m);

    // A second read adds nothing twice; later increments add to the total.
    text = await registry.metrics();
    assert.equal(metricValue(text, 'test_requests_total', { route: '/', status: '200' }), 2);
    ok.n += 3;
    text = await registry.metrics();
    assert.equal(metricValue(text, 'test_requests_total', { route: '/', status: '200' }), 5);
  });

  it('shows a label set from its first use, at zero', async () => {
    const registry = new Registry();
    counter(registry).cell({ route: '/ping', status: 405 });
    assert.match(await registry.metrics(), /^test_requests_total\{route="\/ping",status="405"\} 0$/m);
  });

  it('exposes cumulative histogram buckets, sum and count', async () => {
    const registry = new Registry();
    const h = histogram(registry);
    const root = h.cell('/');
    for (const v of [0.0005, 0.001, 0.005, 0.05, 2]) h.observe(root, v);
    const text = await registry.metrics();
    assert.match(text, /^# TYPE test_duration_seconds histogram$/m);
    const bucket = (le: string) => metricValue(text, 'test_duration_seconds_bucket', { le, route: '/' });
    assert.deepEqual(
      ['0.001', '0.01', '0.1', '+Inf'].map(bucket),
      [2, 3, 4, 5], // a value equal to a bound counts in that bucket; 2 s only in +Inf
    );
    assert.equal(metricValue(text, 'test_duration_seconds_count', { route: '/' }), 5);
    assert.ok(Math.abs(metricValue(text, 'test_duration_seconds_sum', { route: '/' }) - 2.0565) < 1e-9);

    registry.resetMetrics();
    h.observe(root, 0.005);
    const after = await registry.metrics();
    assert.equal(metricValue(after, 'test_duration_seconds_count', { route: '/' }), 1, 'kept cells count on');
    assert.equal(metricValue(after, 'test_duration_seconds_bucket', { le: '+Inf', route: '/' }), 1);
  });

  it('sums across workers as the cluster primary aggregates them', async () => {
    const workers = [new Registry(), new Registry()];
    for (const [i, registry] of workers.entries()) {
      const c = counter(registry);
      c.cell({ route: '/', status: 200 }).n += i + 1;
      const h = histogram(registry);
      h.observe(h.cell('/'), 0.002 * (i + 1));
    }
    const total = AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON())));
    const text = await total.metrics();
    assert.equal(metricValue(text, 'test_requests_total', { route: '/', status: '200' }), 3);
    assert.equal(metricValue(text, 'test_duration_seconds_bucket', { le: '0.01', route: '/' }), 2);
    assert.equal(metricValue(text, 'test_duration_seconds_bucket', { le: '0.001', route: '/' }), 0);
    assert.equal(metricValue(text, 'test_duration_seconds_count', { route: '/' }), 2);
  });
});
