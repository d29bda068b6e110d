import { Transform } from 'class-transformer';

/** Epoch milliseconds given as digits, or an ISO 8601 date; anything else is left for validation to refuse. */
export const ToEpochMs = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    if (/^\d{1,16}$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? value : parsed;
  });

export const ToNumber = () =>
  Transform(({ value }) => (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value));

export const ToBoolean = () =>
  Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value));
