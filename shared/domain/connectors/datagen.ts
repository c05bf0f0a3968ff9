import { createHash } from 'node:crypto';
import { base, en, Faker } from '@faker-js/faker';
import type { DatagenTemplate } from './config';

/**
 * Realistic records for the datagen source, after Confluent's Datagen quickstarts, each
 * keyed by its natural key so records of one entity land on one partition:
 *
 *   orders        key orderid  (unique, increasing)   {ordertime, orderid, itemid, orderunits, userid, address}
 *   users         key userid   (User_1..User_1000)    {registertime, userid, name, email, regionid, gender}
 *   pageviews     key userid   (joins with users)     {viewtime, userid, pageid, url, referrer}
 *   stock-trades  key symbol                          {side, quantity, symbol, price, account, userid}
 *
 * Generation is a pure function of (seed, first index, count, time): a retried batch is
 * the same batch, which is what lets the producer sequence recognise it.
 */
export interface GeneratedRecord {
  key: string;
  value: string;
}

/** English only: the one locale keeps the worker's bundle small. */
const faker = new Faker({ locale: [en, base] });

const USERS = 1000;
const ITEMS = 500;
const REGIONS = 9;
const PAGES = 1000;
/** The test symbols of Confluent's stock-trades quickstart, and a few made-up tickers. */
const SYMBOLS = ['ZBZX', 'ZJZZT', 'ZTEST', 'ZVV', 'ZVZZT', 'ZWZZT', 'ZXZZT', 'RNLX', 'STRM', 'LOGZ'] as const;

const seedOf = (seed: string, first: number): number =>
  createHash('sha256').update(`${seed}#${first}`).digest().readUInt32BE(0);

const userId = () => `User_${faker.number.int({ min: 1, max: USERS })}`;

const generators: Record<DatagenTemplate, (index: number, at: number) => GeneratedRecord> = {
  orders: (index, at) => {
    const orderid = index + 1;
    return {
      key: String(orderid),
      value: JSON.stringify({
        ordertime: at,
        orderid,
        itemid: `Item_${faker.number.int({ min: 1, max: ITEMS })}`,
        orderunits: faker.number.float({ min: 0.1, max: 10, fractionDigits: 2 }),
        userid: userId(),
        address: {
          city: faker.location.city(),
          state: faker.location.state({ abbreviated: true }),
          zipcode: Number(faker.location.zipCode('#####')),
        },
      }),
    };
  },
  users: (_index, at) => {
    const userid = userId();
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    return {
      key: userid,
      value: JSON.stringify({
        registertime: at - faker.number.int({ min: 0, max: 3 * 365 * 86_400_000 }),
        userid,
        name: `${firstName} ${lastName}`,
        email: faker.internet.email({ firstName, lastName }).toLowerCase(),
        regionid: `Region_${faker.number.int({ min: 1, max: REGIONS })}`,
        gender: faker.helpers.arrayElement(['MALE', 'FEMALE', 'OTHER']),
      }),
    };
  },
  pageviews: (_index, at) => {
    const userid = userId();
    const pageid = `Page_${faker.number.int({ min: 1, max: PAGES })}`;
    return {
      key: userid,
      value: JSON.stringify({
        viewtime: at,
        userid,
        pageid,
        url: `https://${faker.internet.domainName()}/${faker.word.noun()}`,
        referrer: faker.helpers.arrayElement(['direct', 'search', 'social', 'email', 'ads']),
      }),
    };
  },
  'stock-trades': () => {
    const symbol = faker.helpers.arrayElement(SYMBOLS);
    return {
      key: symbol,
      value: JSON.stringify({
        side: faker.helpers.arrayElement(['BUY', 'SELL']),
        quantity: faker.number.int({ min: 1, max: 5000 }),
        symbol,
        price: faker.number.int({ min: 5, max: 1000 }),
        account: faker.string.alphanumeric({ length: 6, casing: 'upper' }),
        userid: userId(),
      }),
    };
  },
};

/** `count` records of `template`, numbered from `first` (the connector's record count), generated at `at`. */
export const generateRecords = (
  template: DatagenTemplate,
  seed: string,
  first: number,
  count: number,
  at: number,
): GeneratedRecord[] => {
  faker.seed(seedOf(seed, first));
  const generate = generators[template];
  return Array.from({ length: count }, (_, i) => generate(first + i, at));
};
