import type { ExporterFactory } from '../../component/component.ts';
import { awsxrayExporterConfig, type AwsxrayExporterConfig } from './config.ts';

export const awsxrayExporterFactory: ExporterFactory<AwsxrayExporterConfig> = {
  type: 'awsxray',
  config: awsxrayExporterConfig,
  signals: ['traces'],
  async create(settings, config) {
    const { AwsXRayExporter } = await import('./exporter.ts');
    // The environment is read here, outside the exporter.
    return new AwsXRayExporter(settings, config, {
      daemonAddress: process.env.AWS_XRAY_DAEMON_ADDRESS,
      proxyEnv: process.env,
      awsRegion: process.env.AWS_REGION,
      awsHostname: process.env.AWS_HOSTNAME,
      awsInstanceId: process.env.AWS_INSTANCE_ID,
    });
  },
};
