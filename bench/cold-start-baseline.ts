/**
 * The bare baseline of the cold-start bench (bench/cold-start.ts): hono and the AWS SDK
 * clients the API function uses, nothing of Runnel. Bundled exactly as the functions are.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const s3 = new S3Client({});
const secrets = new SecretsManagerClient({});
const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok', clients: [dynamodb, s3, secrets].length }));
export const handler = handle(app);
