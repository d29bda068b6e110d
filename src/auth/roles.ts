import type { Request } from 'express';
/**
 * Roles of REST consumers, from least to most privileged:
 * reader (records, identities, devices; no biometrics), biometric-reader (also images and feature
 * vectors, every read audited), admin (everything, including keys and changes).
 */
/** Metadata key for the minimum role of an endpoint. */
export const REQUIRED_ROLE = 'rh:required-role';

export const API_ROLES = ['reader', 'biometric-reader', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export function roleSatisfies(held: ApiRole, required: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(required);
}

/** The authenticated caller, attached to the request by the guard. */
export interface ApiPrincipal {
  keyId: string;
  name: string;
  role: ApiRole;
  /** Stable actor string for the audit log. */
  actor: string;
}

/** A request the key guard has authenticated (principal set), or is about to. */
export type AuthenticatedRequest = Request & { principal?: ApiPrincipal };
