import './start';

export * from '../idempotency-store';
