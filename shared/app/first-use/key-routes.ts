import './start';

export * from '../routes/keys';
