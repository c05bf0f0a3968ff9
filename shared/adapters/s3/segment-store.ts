import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SegmentStore } from '#shared/ports/segment-store';

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
    const result = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, Range: `bytes=${start}-${start + length - 1}` }),
    );
    if (!result.Body) throw new Error(`Empty body for ${objectKey}`);
    const bytes = await result.Body.transformToByteArray();
    if (bytes.byteLength !== length) {
      throw new Error(`Short read of ${objectKey}: wanted ${length} bytes, got ${bytes.byteLength}`);
    }
    return bytes;
  }
}
