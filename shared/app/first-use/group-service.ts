import './start';

export * from '#shared/services/groups';
