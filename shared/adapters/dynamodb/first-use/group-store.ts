import './start';

export * from '../group-store';
