import { roundScore } from './score';

describe('roundScore', () => {
  it('removes binary floating-point noise from raw/100', () => {
    expect(70.7 / 100).not.toBe(0.707);
    expect(roundScore(70.7 / 100)).toBe(0.707);
    expect(String(roundScore(57.99 / 100))).toBe('0.5799');
    expect(roundScore(94.8125 / 100)).toBe(0.948125);
  });

  it('keeps null and exact values', () => {
    expect(roundScore(null)).toBeNull();
    expect(roundScore(0)).toBe(0);
    expect(roundScore(1)).toBe(1);
    expect(roundScore(0.123456789)).toBe(0.123457);
  });
});
