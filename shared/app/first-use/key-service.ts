import './start';

export * from '#shared/services/keys';
