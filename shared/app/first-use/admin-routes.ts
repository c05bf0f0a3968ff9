import './start';

export * from '../routes/admin';
