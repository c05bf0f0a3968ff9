import './start';

export * from '#shared/services/tokens';
