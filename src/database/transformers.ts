import { ValueTransformer } from 'typeorm';

/** PostgreSQL returns int8 as a string; epoch milliseconds fit safely in a JS number. */
export const bigintMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
