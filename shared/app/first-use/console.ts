import './start';

export * from '../console';
