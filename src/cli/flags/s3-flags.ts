import { Option, type Command } from 'commander';
import type { OpenStoreOptions } from '../../snapshot/stores/open-store.js';
import type { Logger } from '../../util/log.js';

/** The S3 flags every snapshot command takes (the AWS credential chain does the rest). */
export function addS3Flags(command: Command): Command {
  return command
    .addOption(new Option('--s3-endpoint <url>', 'an S3-compatible server (default AWS_ENDPOINT_URL_S3, then AWS)'))
    .addOption(new Option('--s3-force-path-style', 'address buckets as path segments (default with a custom endpoint)'))
    .addOption(new Option('--s3-region <region>', 'the bucket\'s region (default AWS_REGION)'));
}

export function s3Options(opts: Record<string, unknown>, logger?: Logger): OpenStoreOptions {
  const endpoint = opts['s3Endpoint'] as string | undefined;
  const region = opts['s3Region'] as string | undefined;
  return {
    ...(logger !== undefined ? { logger } : {}),
    s3: {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(region !== undefined ? { region } : {}),
      ...(opts['s3ForcePathStyle'] === true ? { forcePathStyle: true } : {}),
    },
  };
}
