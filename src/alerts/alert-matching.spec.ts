import { cooldownKeyOf, inSchedule, matchesConditions } from './alert-matching';
import { AlertCandidate, AlertSchedule } from './alert-rule.types';

const at = (iso: string) => Date.parse(iso);
const record = (over: Partial<AlertCandidate> = {}): AlertCandidate => ({
  recordId: 'r1',
  boxId: 'box-a',
  mediaDeviceId: 'cam-1',
  identityId: 'id-1',
  identityExternalId: 'p-1',
  identityName: null,
  userType: 'employee',
  score: 0.9,
  hasDefects: false,
  occurredAt: at('2026-11-25T12:00:00Z'), // a Wednesday
  ...over,
});

describe('inSchedule', () => {
  const nights: AlertSchedule = { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '06:00' }] };

  it.each([
    ['2026-11-23T19:59:00Z', false], // Monday before the window
    ['2026-11-23T20:00:00Z', true], // Monday evening
    ['2026-11-24T05:59:00Z', true], // Tuesday morning: Monday's window
    ['2026-11-24T06:00:00Z', false], // end is exclusive
    ['2026-11-23T03:00:00Z', false], // Monday morning belongs to Sunday night, not in the days
    ['2026-11-28T03:00:00Z', true], // Saturday morning belongs to Friday night
    ['2026-11-28T21:00:00Z', false], // Saturday evening
  ])('Mon-Fri 20:00-06:00 UTC at %s: %s', (iso, expected) => {
    expect(inSchedule(nights, at(iso), 'UTC')).toBe(expected);
  });

  it('reads wall-clock time in the schedule zone, else in the default zone', () => {
    const office: AlertSchedule = { windows: [{ days: ['wed'], from: '09:00', to: '17:00' }] };
    // 08:30 UTC is 09:30 in Berlin (CET) and 03:30 in New York (EST).
    expect(inSchedule({ ...office, timeZone: 'Europe/Berlin' }, at('2026-11-25T08:30:00Z'), 'UTC')).toBe(true);
    expect(inSchedule({ ...office, timeZone: 'America/New_York' }, at('2026-11-25T08:30:00Z'), 'UTC')).toBe(false);
    expect(inSchedule(office, at('2026-11-25T08:30:00Z'), 'Europe/Berlin')).toBe(true);
    expect(inSchedule(office, at('2026-11-25T08:30:00Z'), 'UTC')).toBe(false);
    // Across midnight in the zone: Tuesday 23:30 UTC is Wednesday 00:30 in Berlin.
    expect(
      inSchedule(
        { timeZone: 'Europe/Berlin', windows: [{ days: ['wed'], from: '00:00', to: '01:00' }] },
        at('2026-11-24T23:30:00Z'),
        'UTC',
      ),
    ).toBe(true);
  });

  it('keeps wall-clock times across a DST change', () => {
    const evening: AlertSchedule = { timeZone: 'Europe/Berlin', windows: [{ days: ['sun'], from: '20:00', to: '21:00' }] };
    expect(inSchedule(evening, at('2026-03-29T18:30:00Z'), 'UTC')).toBe(true); // CEST: 20:30
    expect(inSchedule(evening, at('2026-03-22T19:30:00Z'), 'UTC')).toBe(true); // CET: 20:30
    expect(inSchedule(evening, at('2026-03-29T19:30:00Z'), 'UTC')).toBe(false); // CEST: 21:30
  });

  it('24:00 ends a window at midnight', () => {
    const late: AlertSchedule = { windows: [{ days: ['wed'], from: '22:00', to: '24:00' }] };
    expect(inSchedule(late, at('2026-11-25T23:59:00Z'), 'UTC')).toBe(true);
    expect(inSchedule(late, at('2026-11-26T00:00:00Z'), 'UTC')).toBe(false);
  });
});

describe('matchesConditions', () => {
  const m = (c: Parameters<typeof matchesConditions>[0], r = record(), person: string | null = r.identityId) =>
    matchesConditions(c, r, person, 'UTC');

  it('an empty rule matches every record', () => {
    expect(m({})).toBe(true);
  });

  it('user types', () => {
    expect(m({ userTypes: ['employee', 'vip'] })).toBe(true);
    expect(m({ userTypes: ['vip'] })).toBe(false);
    expect(m({ userTypes: ['vip'] }, record({ userType: null }))).toBe(false);
  });

  it('unknown only: strangers and records without identity', () => {
    expect(m({ unknownOnly: true })).toBe(false);
    expect(m({ unknownOnly: true }, record({ userType: 'stranger' }))).toBe(true);
    expect(m({ unknownOnly: true }, record({ identityId: null, userType: null }), null)).toBe(true);
  });

  it('include lists of persons or identities, either one', () => {
    expect(m({ identityIds: ['id-1'] })).toBe(true);
    expect(m({ identityIds: ['id-2'] })).toBe(false);
    expect(m({ personIds: ['person-9'] }, record(), 'person-9')).toBe(true);
    expect(m({ personIds: ['person-9'], identityIds: ['id-1'] }, record(), 'person-8')).toBe(true);
    expect(m({ personIds: ['person-9'] }, record({ identityId: null }), null)).toBe(false);
  });

  it('exclude lists of persons or identities', () => {
    expect(m({ excludeIdentityIds: ['id-1'] })).toBe(false);
    expect(m({ excludePersonIds: ['person-9'] }, record(), 'person-9')).toBe(false);
    expect(m({ excludePersonIds: ['person-9'] }, record(), 'person-8')).toBe(true);
    expect(m({ excludeIdentityIds: ['id-1'] }, record({ identityId: null }), null)).toBe(true);
  });

  it('boxes and media devices', () => {
    expect(m({ boxIds: ['box-a'], mediaDeviceIds: ['cam-1', 'cam-2'] })).toBe(true);
    expect(m({ boxIds: ['box-b'] })).toBe(false);
    expect(m({ mediaDeviceIds: ['cam-2'] })).toBe(false);
  });

  it('minimum score: a record without score does not match', () => {
    expect(m({ minScore: 0.9 })).toBe(true);
    expect(m({ minScore: 0.91 })).toBe(false);
    expect(m({ minScore: 0 }, record({ score: null }))).toBe(false);
  });

  it('with or without defects', () => {
    expect(m({ hasDefects: false })).toBe(true);
    expect(m({ hasDefects: true })).toBe(false);
    expect(m({ hasDefects: true }, record({ hasDefects: true }))).toBe(true);
  });

  it('schedule by box event time', () => {
    const schedule: AlertSchedule = { windows: [{ days: ['wed'], from: '11:00', to: '13:00' }] };
    expect(m({ schedule })).toBe(true);
    expect(m({ schedule }, record({ occurredAt: at('2026-11-25T13:00:00Z') }))).toBe(false);
  });

  it('every condition must hold', () => {
    expect(m({ userTypes: ['employee'], minScore: 0.5, boxIds: ['box-a'], hasDefects: true })).toBe(false);
  });
});

describe('cooldownKeyOf', () => {
  it('counts per person, else identity, else everyone without identity', () => {
    expect(cooldownKeyOf('p', 'i')).toBe('person:p');
    expect(cooldownKeyOf(null, 'i')).toBe('identity:i');
    expect(cooldownKeyOf(null, null)).toBe('none');
  });
});
