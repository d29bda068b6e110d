/**
 * Messages between cluster workers and the primary for `/metrics` (src/cluster.ts): the worker that got the scrape
 * sends `request`; the primary sends `collect` to every worker, each answers with its registry as JSON (`part`),
 * and the primary answers the asking worker with the sum (`response`).
 */
export const CLUSTER_METRICS = {
  request: 'rh:metrics:request',
  collect: 'rh:metrics:collect',
  part: 'rh:metrics:part',
  response: 'rh:metrics:response',
} as const;

export type ClusterMetricsMessage =
  | { kind: 'rh:metrics:request'; id: number }
  | { kind: 'rh:metrics:collect'; id: number }
  | { kind: 'rh:metrics:part'; id: number; /** The worker's registry, from getMetricsAsJSON(). */ metrics?: object[]; error?: string }
  | { kind: 'rh:metrics:response'; id: number; text?: string; workers?: number; error?: string };
