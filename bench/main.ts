import { benchGroups } from './groups';

/** `npm run bench`: every benchmark in turn, printing its figures. */
console.log('## consumer groups');
await benchGroups();
