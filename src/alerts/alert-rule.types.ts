/** Alert rules as stored and as the REST API takes them (see README "Alert rules"). */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Days on which a window starts, and its local start and end time ("HH:MM"; an end at or before the start runs into the next day). */
export interface ScheduleWindow {
  days: Weekday[];
  from: string;
  to: string;
}

export interface AlertSchedule {
  /** IANA time zone; default ALERT_TIME_ZONE. */
  timeZone?: string;
  windows: ScheduleWindow[];
}

/**
 * What a record must match; every condition given must hold (an absent or empty one matches everything).
 * Lists hold ids as the REST API shows them.
 */
export interface AlertRuleConditions {
  userTypes?: string[];
  /** Only strangers (user_type stranger) and records without identity. */
  unknownOnly?: boolean;
  /** Include lists: the record's person or identity must be on one of them (when either is given). */
  personIds?: string[];
  identityIds?: string[];
  /** Exclude lists: a record of a person or identity on them never matches. */
  excludePersonIds?: string[];
  excludeIdentityIds?: string[];
  boxIds?: string[];
  mediaDeviceIds?: string[];
  schedule?: AlertSchedule;
  /** Normalised 0-1; a record without a usable score does not match. */
  minScore?: number;
  /** true: only records stored with defects; false: only records without. */
  hasDefects?: boolean;
}

/** The record facts a rule is matched against. */
export interface AlertCandidate {
  recordId: string;
  boxId: string;
  mediaDeviceId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  score: number | null;
  hasDefects: boolean;
  /** Box event time, epoch ms. */
  occurredAt: number;
}
