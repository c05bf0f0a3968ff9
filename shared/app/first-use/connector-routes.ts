import './start';

export * from '../routes/connectors';
