// dynalite's own item-size rule (DynamoDB's), used to price conditional writes that failed.
declare module 'dynalite/db/index.js' {
  export function itemSize(item: Record<string, unknown>): number;
}
