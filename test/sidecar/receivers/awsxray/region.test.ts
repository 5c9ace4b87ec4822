// Region resolution of the sampling proxy, in the collector's order.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRegion } from '../../../../sidecar/receivers/awsxray/region.ts';

const noImds = () => Promise.reject(new Error('no metadata service here'));

describe('awsxray sampling proxy region', () => {
  it('takes config, then AWS_DEFAULT_REGION, then AWS_REGION', async () => {
    const env = { AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'us-east-2' };
    assert.deepEqual(await resolveRegion({ region: 'ap-south-1', localMode: true, imdsRetries: 0, env }), { region: 'ap-south-1', source: 'config' });
    assert.deepEqual(await resolveRegion({ region: '', localMode: true, imdsRetries: 0, env }), { region: 'eu-west-1', source: 'AWS_DEFAULT_REGION' });
    assert.deepEqual(await resolveRegion({ region: '', localMode: true, imdsRetries: 0, env: { AWS_REGION: 'us-east-2' } }), { region: 'us-east-2', source: 'AWS_REGION' });
  });

  it('in local_mode never asks the metadata endpoints', async () => {
    let asked = 0;
    const r = await resolveRegion({ region: '', localMode: true, imdsRetries: 3, env: {}, imdsRegion: () => (asked++, Promise.resolve('us-west-1')) });
    assert.equal(r.region, undefined);
    assert.equal(asked, 0);
    assert.match(r.source, /local_mode/);
  });

  it('otherwise reads the ECS metadata file, then EC2 instance metadata with retries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-ecs-'));
    const file = join(dir, 'meta.json');
    writeFileSync(file, JSON.stringify({ TaskARN: 'arn:aws:ecs:sa-east-1:123456789012:task/abc' }));
    const ecs = await resolveRegion({ region: '', localMode: false, imdsRetries: 0, env: { ECS_ENABLE_CONTAINER_METADATA: 'true', ECS_CONTAINER_METADATA_FILE: file }, imdsRegion: noImds });
    assert.deepEqual(ecs, { region: 'sa-east-1', source: 'ECS container metadata file' });

    let attempts = 0;
    const flaky = () => (++attempts < 3 ? Promise.reject(new Error('timeout')) : Promise.resolve('ca-central-1\n'));
    assert.deepEqual(await resolveRegion({ region: '', localMode: false, imdsRetries: 2, env: {}, imdsRegion: flaky }), { region: 'ca-central-1', source: 'EC2 instance metadata' });

    const none = await resolveRegion({ region: '', localMode: false, imdsRetries: 1, env: {}, imdsRegion: noImds });
    assert.equal(none.region, undefined);
    assert.match(none.source, /no metadata service here/);
    const disabled = await resolveRegion({ region: '', localMode: false, imdsRetries: 1, env: { AWS_EC2_METADATA_DISABLED: 'true' }, imdsRegion: noImds });
    assert.match(disabled.source, /AWS_EC2_METADATA_DISABLED/);
  });
});
