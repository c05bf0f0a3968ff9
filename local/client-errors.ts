import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '#shared/domain/errors';

/** How long a client may take to send a whole request (headers and body): a slowloris is cut off. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 10_000;

interface RawProblem {
  status: number;
  reason: string;
  code: ErrorCode;
  title: string;
  detail: string;
}

const PROBLEMS: Record<string, RawProblem> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'request_too_large',
    title: 'Request too large',
    detail: 'The request headers are larger than the server accepts (16 KiB).',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'invalid_request',
    title: 'Request timeout',
    detail: `The request was not received in full within ${REQUEST_TIMEOUT_MS / 1000} s.`,
  },
};
const MALFORMED: RawProblem = {
  status: 400,
  reason: 'Bad Request',
  code: 'invalid_request',
  title: 'Invalid request',
  detail: 'The request is not valid HTTP/1.1.',
};

/**
 * Node answers requests it cannot parse itself, with an empty body. The local server
 * answers them as the app answers everything else: a problem document.
 */
export const answerClientErrors = (server: Pick<Server, 'on'>) => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && !socket.bytesWritten)) {
      socket.destroy();
      return;
    }
    const p = (error.code && PROBLEMS[error.code]) || MALFORMED;
    const body = JSON.stringify({
      type: `urn:runnel:problem:${p.code}`,
      title: p.title,
      status: p.status,
      detail: p.detail,
      code: p.code,
    });
    socket.end(
      `HTTP/1.1 ${p.status} ${p.reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  });
};
