import { InitialSchema1764043200000 } from './1764043200000-initial-schema';

/** Every migration, in order. Listed explicitly so the compiled app and the CLI agree without globbing. */
export const migrations = [InitialSchema1764043200000];
