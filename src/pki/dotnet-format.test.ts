import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDotNetName, formatDotNetDate, nginxEscape } from './dotnet-format.js';
import { oid, seq, tlv } from './der.js';

const atv = (type: string, tag: number, value: Buffer | string) => seq(oid(type), tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value));
const rdn = (...atvs: Buffer[]) => tlv(0x31, ...atvs);
const name = (...rdns: Buffer[]) => seq(...rdns);
const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';

test('X500DistinguishedName.Name: reversed RDN order, ", " and " + " separators, .NET attribute names', () => {
  assert.equal(formatDotNetName(name()), '');
  assert.equal(formatDotNetName(name(rdn(atv(C, 0x13, 'NL')), rdn(atv(O, 0x0c, 'Acme')), rdn(atv(CN, 0x0c, 'x')))), 'CN=x, O=Acme, C=NL');
  assert.equal(formatDotNetName(name(rdn(atv(O, 0x0c, 'A'), atv('2.5.4.11', 0x0c, 'B')))), 'O=A + OU=B');
  const all = name(
    rdn(atv('2.5.4.8', 0x0c, 'Zuid-Holland')),
    rdn(atv('2.5.4.7', 0x0c, 'Den Haag')),
    rdn(atv('1.2.840.113549.1.9.1', 0x16, 'a@b.nl')),
    rdn(atv('0.9.2342.19200300.100.1.25', 0x16, 'corp')),
    rdn(atv('2.5.4.5', 0x13, '1234')),
    rdn(atv('2.5.4.9', 0x0c, 'Main 1')),
    rdn(atv('2.5.4.15', 0x0c, 'Private Organization')),
  );
  assert.equal(formatDotNetName(all), 'OID.2.5.4.15=Private Organization, STREET=Main 1, SERIALNUMBER=1234, DC=corp, E=a@b.nl, L=Den Haag, S=Zuid-Holland');
});

test('values are quoted exactly when .NET quotes them', () => {
  const one = (v: string) => formatDotNetName(name(rdn(atv(CN, 0x0c, v))));
  assert.equal(one('plain value'), 'CN=plain value');
  for (const special of [',', '+', '=', '"', '\n', '<', '>', '#', ';']) {
    const v = `a${special}b`;
    assert.equal(one(v), `CN="${v.replace(/"/g, '""')}"`, JSON.stringify(special));
  }
  assert.equal(one(' lead'), 'CN=" lead"');
  assert.equal(one('trail\t'), 'CN="trail\t"');
  assert.equal(one('in\rside'), 'CN=in\rside'); // \r inside is not quoted (Windows behaviour)
  assert.equal(one(''), 'CN=""');
  assert.equal(one('Ünïcödé 名前'), 'CN=Ünïcödé 名前');
  assert.equal(one('trailing nul\0'), 'CN=trailing nul');
});

test('string types: BMP, T61 (UTF-8 or Latin-1), and #HEX for the others', () => {
  const bmp = Buffer.from('Zoë', 'utf16le').swap16();
  assert.equal(formatDotNetName(name(rdn(atv(CN, 0x1e, bmp)))), 'CN=Zoë');
  assert.equal(formatDotNetName(name(rdn(atv(CN, 0x14, Buffer.from('café', 'utf8'))))), 'CN=café');
  assert.equal(formatDotNetName(name(rdn(atv(CN, 0x14, Buffer.from([0x63, 0x61, 0x66, 0xe9]))))), 'CN=café');
  assert.equal(formatDotNetName(name(rdn(atv(CN, 0x04, Buffer.from([0xab, 0x01]))))), 'CN=#AB01');
  // UniversalString is not decoded by .NET: the whole encoded value as hex, never quoted.
  assert.equal(formatDotNetName(name(rdn(atv(CN, 0x1c, Buffer.from([0, 0, 0, 0x41]))))), 'CN=#1C0400000041');
});

test('NGINX escaping keeps only A-Z a-z 0-9 - . _ ~', () => {
  assert.equal(nginxEscape('-----BEGIN CERTIFICATE-----\nab+/=\n'), '-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D%0A');
  assert.equal(nginxEscape('a.b_c~d!*\'()@'), 'a.b_c~d%21%2A%27%28%29%40');
  assert.equal(nginxEscape('é'), '%C3%A9');
});

test('dates as DateTime.ToString() under en-US, in UTC', () => {
  assert.equal(formatDotNetDate(new Date('2024-02-02T08:39:43Z')), '2/2/2024 8:39:43 AM');
  assert.equal(formatDotNetDate(new Date('2074-12-31T00:05:09Z')), '12/31/2074 12:05:09 AM');
  assert.equal(formatDotNetDate(new Date('2024-07-04T12:00:00Z')), '7/4/2024 12:00:00 PM');
  assert.equal(formatDotNetDate(new Date('2024-07-04T23:59:59Z')), '7/4/2024 11:59:59 PM');
});
