import './start';

export * from '../connector-store';
