import { PortError } from '#shared/domain/errors';

/** Immutable segment objects (S3 in production, s3rver locally). */
export interface SegmentStore {
  put(objectKey: string, body: Uint8Array): Promise<void>;
  /** Reads `length` bytes from `start`: one ranged GET. Throws {@link SegmentNotFoundError} if the object is gone. */
  getRange(objectKey: string, start: number, length: number): Promise<Uint8Array>;
  /** One page of the objects whose key starts with `prefix`, in key order, after `startAfter`. */
  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectPage>;
  /** Deletes the objects (missing ones are no error); at most 1,000 keys per call. */
  delete(objectKeys: readonly string[]): Promise<void>;
}

export interface StoredObject {
  objectKey: string;
  /** Last-modified time, ms since epoch. */
  lastModified: number;
  size: number;
}

export interface ObjectPage {
  objects: StoredObject[];
  /** Pass as `startAfter` for the next page; absent on the last page. */
  next?: string;
}

/** The object does not exist (any more): compaction or cleanup removed it after its index entry was read. */
export class SegmentNotFoundError extends PortError {
  constructor(readonly objectKey: string) {
    super('segment_not_found', `Segment object ${objectKey} does not exist`);
  }
}
