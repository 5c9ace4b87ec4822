// The component registry: lazily loaded factories load when a config names their type, through
// static import() calls (the bundle makes each an initializer in cli.js; see sidecar/runtime/bundle.ts).
import assert from 'node:assert/strict';
import { components, LazyFactories, loadComponentFactories, type ComponentRegistry } from '../../../sidecar/service/components.ts';

interface Fake {
  type: string;
}

/** A registry whose processors are lazily loaded fakes, recording which loaders ran. */
function fakeRegistry() {
  const loads: string[] = [];
  const loader = (type: string) => () => {
    loads.push(type);
    return Promise.resolve({ type });
  };
  const processor = new LazyFactories<Fake>([{ type: 'batch' }], { filter: loader('filter'), attributes: loader('attributes'), resource: loader('resource') });
  const registry = { ...components, processor } as unknown as ComponentRegistry;
  return { registry, processor, loads };
}

describe('component registry: lazily loaded factories', () => {
  it('loads the factories a config names, once, and nothing else; has() and keys() load nothing', async () => {
    const { registry, processor, loads } = fakeRegistry();
    assert.equal(processor.has('filter'), true);
    assert.deepEqual([...processor.keys()].sort(), ['attributes', 'batch', 'filter', 'resource']);
    assert.deepEqual(loads, []);
    const raw = { processors: { 'filter/health': {}, filter: {}, batch: {}, nonsense: {} }, exporters: { debug: {} } };
    await loadComponentFactories(raw, registry);
    await loadComponentFactories(raw, registry);
    assert.deepEqual(loads, ['filter'], 'filter once (two IDs, two calls), no other processor');
    assert.deepEqual(processor.get('filter'), { type: 'filter' });
    assert.equal(processor.get('nonsense'), undefined, 'an unknown type is left to decoding to report');
  });

  it('get() of a lazily loaded factory not loaded yet says what to do, instead of answering "unknown type"', () => {
    const { processor } = fakeRegistry();
    assert.throws(() => processor.get('attributes'), /factory of component type "attributes" is not loaded: await loadComponentFactories/);
  });

  it('ignores sections that are not maps (decoding reports them) and, without a config, loads every factory', async () => {
    const { registry, loads } = fakeRegistry();
    await loadComponentFactories({ processors: ['filter'], receivers: 'otlp' }, registry);
    await loadComponentFactories(null, registry);
    assert.deepEqual(loads, []);
    await loadComponentFactories(undefined, registry);
    assert.deepEqual(loads.sort(), ['attributes', 'filter', 'resource']);
  });

  it('every lazily loaded type of the real registry loads a factory of that type', async () => {
    await loadComponentFactories();
    for (const kind of ['receiver', 'processor', 'exporter', 'extension'] as const) {
      for (const [type, factory] of components[kind]) assert.equal(factory.type, type, `${kind} ${type}`);
    }
  });
});
