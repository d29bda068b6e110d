import { DateTime } from 'luxon';
import { AlertCandidate, AlertRuleConditions, AlertSchedule, WEEKDAYS } from './alert-rule.types';

/** Minutes since local midnight of "HH:MM" ("24:00" is the end of the day). */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * Whether an instant falls in a weekly schedule, in the schedule's time zone (luxon does the zone and DST math:
 * wall-clock times, so 20:00 stays 20:00 across a DST change). A window from 20:00 to 06:00 on Mon-Fri covers Monday
 * 20:00 to Tuesday 06:00 … Friday 20:00 to Saturday 06:00, so Saturday 03:00 is in, Monday 03:00 is not.
 */
export function inSchedule(schedule: AlertSchedule, at: number, defaultZone: string): boolean {
  const local = DateTime.fromMillis(at, { zone: schedule.timeZone ?? defaultZone });
  const day = WEEKDAYS[local.weekday - 1];
  const previousDay = WEEKDAYS[(local.weekday + 5) % 7];
  const minute = local.hour * 60 + local.minute;
  return schedule.windows.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (from < to) return w.days.includes(day) && minute >= from && minute < to;
    // Crosses midnight: the evening part belongs to the day it starts on, the morning part to the day before.
    return (w.days.includes(day) && minute >= from) || (w.days.includes(previousDay) && minute < to);
  });
}

export function isValidTimeZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

const has = (list: string[] | undefined): list is string[] => Array.isArray(list) && list.length > 0;

/**
 * Whether a record matches a rule's conditions. `personId` is the record's person as the PersonLookup says (null
 * without identity).
 */
export function matchesConditions(c: AlertRuleConditions, r: AlertCandidate, personId: string | null, defaultZone: string): boolean {
  if (has(c.userTypes) && (r.userType === null || !c.userTypes.includes(r.userType))) return false;
  if (c.unknownOnly && !(r.identityId === null || r.userType === 'stranger')) return false;
  if (has(c.boxIds) && !c.boxIds.includes(r.boxId)) return false;
  if (has(c.mediaDeviceIds) && !c.mediaDeviceIds.includes(r.mediaDeviceId)) return false;
  if (c.minScore !== undefined && c.minScore !== null && (r.score === null || r.score < c.minScore)) return false;
  if (c.hasDefects !== undefined && c.hasDefects !== null && r.hasDefects !== c.hasDefects) return false;
  if (has(c.personIds) || has(c.identityIds)) {
    const onList =
      (personId !== null && !!c.personIds?.includes(personId)) || (r.identityId !== null && !!c.identityIds?.includes(r.identityId));
    if (!onList) return false;
  }
  if (personId !== null && c.excludePersonIds?.includes(personId)) return false;
  if (r.identityId !== null && c.excludeIdentityIds?.includes(r.identityId)) return false;
  if (c.schedule && !inSchedule(c.schedule, r.occurredAt, defaultZone)) return false;
  return true;
}

/** Who a rule's cooldown counts per: the person, else the identity, else everyone without identity on that camera. */
export function cooldownKeyOf(personId: string | null, identityId: string | null): string {
  if (personId !== null) return `person:${personId}`;
  if (identityId !== null) return `identity:${identityId}`;
  return 'none';
}
