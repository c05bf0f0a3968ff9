import './start';

export * from '#shared/services/exactly-once';
