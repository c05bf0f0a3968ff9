import './start';

export * from '#shared/services/record-stream';
