import 'reflect-metadata';
import { Defects } from './recognition-record.mapper';
import { EXTRA_MAX_BYTES, UnknownFields } from './unknown-fields';

const KNOWN = new Set(['known']);

describe('UnknownFields', () => {
  it('keeps unknown fields as sent, long strings replaced by a note', () => {
    const u = new UnknownFields();
    const defects = new Defects();
    expect(u.keep({ known: 1, lane: 3, tags: ['a', { b: null }], blob: 'x'.repeat(2000) }, KNOWN, '')).toEqual({
      lane: 3,
      tags: ['a', { b: null }],
      blob: '[omitted: 2000 characters]',
    });
    expect(u.keep({ known: 1 }, KNOWN, 'media_device_info')).toBeNull();
    u.reportTo(defects);
    expect(defects.list).toEqual([]);
  });

  it(`keeps whole fields up to ${EXTRA_MAX_BYTES} bytes per record and lists what it left out as one defect`, () => {
    const u = new UnknownFields();
    const defects = new Defects();
    const small = { a: 1, b: 'two' };
    const huge = Array(1_000_000).fill(0); // a million-item array: copying stops at the budget
    const kept = u.keep({ ...small, huge, c: 3 }, KNOWN, '');
    expect(kept).toEqual(small);
    // The budget is per record, shared by the nested objects.
    expect(u.keep({ d: 4 }, KNOWN, 'recognize_face_attr')).toBeNull();
    u.reportTo(defects);
    expect(defects.list).toEqual([
      {
        field: 'huge',
        code: 'too_large',
        message: `huge and 2 more unknown field(s) not kept: unknown fields are kept up to ${EXTRA_MAX_BYTES} bytes per record`,
      },
    ]);
  });

  it('counts keys and short strings against the budget', () => {
    const u = new UnknownFields();
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`field_${i}`, 'y'.repeat(1000)]));
    const kept = u.keep(many, KNOWN, '')!;
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(EXTRA_MAX_BYTES);
    expect(Object.keys(kept).length).toBeGreaterThan(50);
    const defects = new Defects();
    u.reportTo(defects);
    expect(defects.list[0]).toMatchObject({ field: `field_${Object.keys(kept).length}`, code: 'too_large' });
  });
});
