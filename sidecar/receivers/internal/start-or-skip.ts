// In a pod the sidecar must never harm the app: a receiver port that cannot be bound (an X-Ray
// daemon or another collector already holds it) is logged and counted, and the rest runs.
import type { CreateSettings } from '../../component/component.ts';

export async function startOrSkip(settings: CreateSettings, transport: string, start: () => Promise<void>): Promise<boolean> {
  try {
    await start();
    return true;
  } catch (err) {
    settings.metrics
      .counter('tracebridge_receiver_bind_failures_total', 'Receiver listeners that could not be started and were skipped.')
      .add(1, { receiver: settings.id, transport });
    settings.logger.error(
      { receiver: settings.id, transport, err: (err as Error).message },
      'receiver listener could not start; skipping it (the rest of the sidecar keeps running)',
    );
    return false;
  }
}
