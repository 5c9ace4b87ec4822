// The `resource` processor on the encoded OTLP bytes: the actions edit the attributes of each
// ResourceSpans' Resource, once per ResourceSpans; spans are not read. The Resource's other
// fields (dropped_attributes_count, unknown ones) and untouched attributes are copied as raw
// bytes and the ResourceSpans re-framed (pdata/splice.ts). A ResourceSpans without a Resource gets
// one when an action adds an attribute.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { TAG_RESOURCE_ATTRIBUTES } from '../../pdata/fields.ts';
import { rewriteResources } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import { ActionRunner } from '../internal/attraction/actions.ts';
import { AttrList } from '../internal/attraction/list.ts';
import type { ResourceConfig } from './config.ts';

export class ResourceProcessor implements Processor {
  // Edits build new buffers; the input is never changed in place.
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly runner: ActionRunner;
  private readonly list = new AttrList();

  constructor(_settings: CreateSettings, cfg: ResourceConfig, next: TracesConsumer) {
    this.next = next;
    this.runner = new ActionRunner(cfg.attributes ?? []);
  }

  consumeTraces(data: TracesData): Promise<void> {
    const buf = data.bytes;
    const list = this.list;
    const out = rewriteResources(buf, data.view, (start, end) => {
      list.load(buf, start, end, TAG_RESOURCE_ATTRIBUTES, false);
      this.runner.apply(list);
      return list.changed ? Buffer.concat(list.emit()) : undefined;
    });
    return this.next.consumeTraces(out === undefined ? data : TracesData.trusted(out, data.spanCount));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
