import './start';

export * from '../routes/groups';
