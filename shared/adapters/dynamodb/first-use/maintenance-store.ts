import './start';

export * from '../maintenance-store';
