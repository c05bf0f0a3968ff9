/** Where an s3-sink writes: a bucket of the tenant's, reached as the tenant allows. */
export interface SinkBucket {
  tenantId: string;
  connector: string;
  bucket: string;
  /** In AWS, the role the service assumes with the tenant id as external id. */
  roleArn?: string | undefined;
}

/** The bucket refused the write, does not exist, or its role cannot be assumed: the user must act. */
export class SinkBucketError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkBucketError';
  }
}

export interface SinkObjectStore {
  /** Writes (or overwrites) one object. */
  put(target: SinkBucket, key: string, body: Uint8Array): Promise<void>;
}
