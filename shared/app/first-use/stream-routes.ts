import './start';

export * from '../routes/streams';
