import './start';

export * from '../routes/tokens';
