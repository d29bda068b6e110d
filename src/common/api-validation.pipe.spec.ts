import { BadRequestException } from '@nestjs/common';
import { apiValidationPipe } from './api-validation.pipe';

describe('apiValidationPipe', () => {
  const pipe = apiValidationPipe();

  it('refuses unstorable text in REST input, naming the field', async () => {
    await expect(pipe.transform({ q: 'a\u0000b' }, { type: 'query' })).rejects.toBeInstanceOf(BadRequestException);
    await expect(pipe.transform('a\ud800', { type: 'param', data: 'id', metatype: String })).rejects.toMatchObject({
      response: { field: 'id' },
    });
  });

  it('passes custom parameters (the caller, a box push) through untouched', async () => {
    const push = [{ identity_name: 'Wang\u0000Fang', unknown_field: { '\ud800': 1 } }];
    await expect(pipe.transform(push, { type: 'custom', metatype: Array })).resolves.toBe(push);
    await expect(pipe.transform('not\u0000the-token', { type: 'custom', metatype: String })).resolves.toBe('not\u0000the-token');
  });
});
