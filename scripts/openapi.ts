/**
 * Regenerates `shared/app/openapi.json` from the route definitions (see
 * scripts/openapi-document.ts). Run it after changing a route or a schema; the test
 * suite fails while the checked-in document is stale.
 *
 *   npm run openapi
 */
import { writeFileSync } from 'node:fs';
import { OPENAPI_DOCUMENT_PATH, openApiDocumentText } from './openapi-document';

const text = await openApiDocumentText();
writeFileSync(OPENAPI_DOCUMENT_PATH, text);
console.log(`wrote ${OPENAPI_DOCUMENT_PATH} (${(Buffer.byteLength(text) / 1024).toFixed(1)} KB)`);
