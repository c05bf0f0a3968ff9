import './start';

export * from '../routes/topic-admin';
