import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  checkDestination,
  DestinationRefusedError,
  LOCAL_DESTINATIONS,
  STRICT_DESTINATIONS,
} from './destination';

describe('addressRefusal', () => {
  const refusedEverywhere = [
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.251',
    '255.255.255.255',
    '192.0.2.1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::',
    'ff02::1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::1',
  ];
  it.each(refusedEverywhere)('refuses %s in both modes', (address) => {
    expect(addressRefusal(address, STRICT_DESTINATIONS)).toBeDefined();
    expect(addressRefusal(address, LOCAL_DESTINATIONS)).toBeDefined();
  });

  it.each(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])(
    'refuses loopback %s in AWS, allows it locally',
    (a) => {
      expect(addressRefusal(a, STRICT_DESTINATIONS)).toMatch(/loopback/);
      expect(addressRefusal(a, LOCAL_DESTINATIONS)).toBeUndefined();
    },
  );

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])('allows public %s', (address) => {
    expect(addressRefusal(address, STRICT_DESTINATIONS)).toBeUndefined();
  });
});

describe('checkDestination', () => {
  const dns = async (host: string) =>
    ({ 'a.example': ['93.184.216.34'], 'b.example': ['93.184.216.34', '10.0.0.1'] })[host] as string[];

  it('resolves and pins the checked addresses', async () => {
    const checked = await checkDestination('https://a.example/x', STRICT_DESTINATIONS, dns);
    expect(checked.addresses).toEqual(['93.184.216.34']);
    expect(checked.url.hostname).toBe('a.example');
  });

  it('refuses when any resolved address is refused, http in AWS, credentials and odd schemes', async () => {
    for (const url of [
      'https://b.example/',
      'http://a.example/',
      'https://u:p@a.example/',
      'file:///etc/passwd',
      'x',
    ]) {
      await expect(checkDestination(url, STRICT_DESTINATIONS, dns)).rejects.toBeInstanceOf(DestinationRefusedError);
    }
    await expect(checkDestination('http://127.0.0.1:8080/x', LOCAL_DESTINATIONS, dns)).resolves.toMatchObject({
      addresses: ['127.0.0.1'],
    });
  });
});
