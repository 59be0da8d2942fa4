import { describe, expect, it } from 'vitest';
import { AttributesError, attributesToCsv, parseAttributesCsv } from './attributes.ts';

describe('parseAttributesCsv', () => {
  it('reads rows by image index in any order, into test-image order', () => {
    const attrs = parseAttributesCsv('image,hair,gender\n2,blond,male\n0,dark,female\n1,blond,female\n', 3);
    expect(attrs).toEqual([{ name: 'hair', values: ['dark', 'blond', 'blond'] }, { name: 'gender', values: ['female', 'female', 'male'] }]);
  });

  it('reads rows by file path for image folders, and keeps quoted values whole', () => {
    const paths = ['test/cat/a.png', 'test/dog/b, c.png'];
    const attrs = parseAttributesCsv('file,light\n"test/dog/b, c.png","dim, ""warm"""\ntest/cat/a.png,bright\n', 2, paths);
    expect(attrs[0].values).toEqual(['bright', 'dim, "warm"']);
    // The stored form (by index) reads back to the same attributes.
    expect(parseAttributesCsv(attributesToCsv(attrs), 2)).toEqual(attrs);
  });

  it('names the first missing, unknown and repeated rows', () => {
    expect(() => parseAttributesCsv('i,a\n0,x\n', 8)).toThrow(/7 test image\(s\) have no row: "1", "2", "3", "4", "5", …/);
    expect(() => parseAttributesCsv('i,a\n0,x\n1,y\n9,z\ncat.png,w\n', 2)).toThrow(/2 row\(s\) name no test image \(expected a test image index 0…1\): "9", "cat.png"/);
    expect(() => parseAttributesCsv('i,a\n0,x\n0,y\n1,z\n', 2)).toThrow(/1 test image\(s\) have more than one row: "0"/);
    expect(() => parseAttributesCsv('i,a\n0,x\n1\n', 2)).toThrow(AttributesError);
    expect(() => parseAttributesCsv('image\n0\n', 1)).toThrow(/at least one attribute column/);
    expect(() => parseAttributesCsv('image,a,a\n0,x,y\n', 1)).toThrow(/unique and non-empty, got "a"/);
  });
});
