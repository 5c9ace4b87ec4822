// The `attributes` processor on the encoded OTLP bytes: each span's attributes are read in place
// (its other fields are not decoded), the actions edit them, and only spans that changed are
// re-encoded: their untouched attributes and every other field (unknown ones included) are copied
// as raw bytes, and the enclosing ScopeSpans / ResourceSpans are re-framed. Spans that do not pass
// include / exclude cost one walk of their fields; a batch where nothing changes goes on as it is.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { TAG_SPAN_ATTRIBUTES } from '../../pdata/fields.ts';
import { editSpanPayloads } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import { ActionRunner } from '../internal/attraction/actions.ts';
import { AttrList } from '../internal/attraction/list.ts';
import type { AttributesConfig } from './config.ts';
import { RuleEvaluator } from './match.ts';

export class AttributesProcessor implements Processor {
  // Edits build new buffers; the input is never changed in place.
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly runner: ActionRunner;
  private readonly include: RuleEvaluator | undefined;
  private readonly exclude: RuleEvaluator | undefined;
  private readonly list = new AttrList();

  constructor(_settings: CreateSettings, cfg: AttributesConfig, next: TracesConsumer) {
    this.next = next;
    this.runner = new ActionRunner(cfg.actions ?? []);
    this.include = cfg.include === undefined ? undefined : new RuleEvaluator(cfg.include);
    this.exclude = cfg.exclude === undefined ? undefined : new RuleEvaluator(cfg.exclude);
  }

  consumeTraces(data: TracesData): Promise<void> {
    const buf = data.bytes;
    const view = data.view;
    this.include?.begin(buf, view);
    this.exclude?.begin(buf, view);
    const list = this.list;
    let edits: Map<number, Uint8Array[]> | undefined;
    for (let k = 0; k < view.spanCount; k++) {
      const start = view.spanStart(k);
      list.load(buf, start, view.spanEnd(k), TAG_SPAN_ATTRIBUTES, true);
      if (this.include !== undefined && !this.include.matches(k, list)) continue;
      if (this.exclude?.matches(k, list) === true) continue;
      this.runner.apply(list);
      if (list.changed) (edits ??= new Map()).set(start, list.emit());
    }
    if (edits === undefined) return this.next.consumeTraces(data);
    return this.next.consumeTraces(TracesData.trusted(editSpanPayloads(buf, edits)!, data.spanCount));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
