/** Immutable segment objects (S3 in production, s3rver locally). */
export interface SegmentStore {
  put(objectKey: string, body: Uint8Array): Promise<void>;
  /** Reads `length` bytes from `start`: one ranged GET. */
  getRange(objectKey: string, start: number, length: number): Promise<Uint8Array>;
}
