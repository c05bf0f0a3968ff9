import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectPage, SegmentStore } from '#shared/ports/segment-store';
import { SegmentNotFoundError } from '#shared/ports/segment-store';

/** Most keys S3 deletes in one DeleteObjects call. */
const MAX_DELETE_KEYS = 1000;

export class S3SegmentStore implements SegmentStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(objectKey: string, body: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: 'application/vnd.runnel.segment',
      }),
    );
  }

  async getRange(objectKey: string, start: number, length: number): Promise<Uint8Array> {
    let result: GetObjectCommandOutput;
    try {
      result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, Range: `bytes=${start}-${start + length - 1}` }),
      );
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new SegmentNotFoundError(objectKey);
      }
      throw error;
    }
    if (!result.Body) throw new Error(`Empty body for ${objectKey}`);
    const bytes = await result.Body.transformToByteArray();
    if (bytes.byteLength !== length) {
      throw new Error(`Short read of ${objectKey}: wanted ${length} bytes, got ${bytes.byteLength}`);
    }
    return bytes;
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ObjectPage> {
    // ListObjects (v1) pages by the last key seen: s3rver's v2 continuation tokens fail on
    // current Node, and a marker is all this needs anyway.
    const result = await this.client.send(
      new ListObjectsCommand({
        Bucket: this.bucket,
        Prefix: prefix,
        Marker: options.startAfter,
        MaxKeys: options.limit ?? 1000,
      }),
    );
    const objects = (result.Contents ?? []).map((o) => ({
      objectKey: o.Key as string,
      lastModified: o.LastModified?.getTime() ?? 0,
      size: o.Size ?? 0,
    }));
    const last = objects.at(-1);
    return result.IsTruncated && last ? { objects, next: last.objectKey } : { objects };
  }

  async delete(objectKeys: readonly string[]): Promise<void> {
    if (objectKeys.length > MAX_DELETE_KEYS) throw new Error(`At most ${MAX_DELETE_KEYS} keys per delete`);
    if (objectKeys.length === 0) return;
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: objectKeys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) throw new Error(`Could not delete ${failed.length} objects: ${failed[0]?.Code}`);
  }
}
