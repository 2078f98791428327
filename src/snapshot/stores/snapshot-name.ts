const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/**
 * The name save gives a snapshot in a store of many (a directory or an S3 prefix):
 * `<clusterId>-<UTC yyyymmddThhmmssZ>-r<revision>.tar.zst`, so one cluster's snapshots sort by time.
 */
export function snapshotName(clusterId: string, createdAt: Date, revision: number): string {
  return `${clusterId}-${stamp(createdAt)}-r${revision}.tar.zst`;
}
