import { IngestGate, IngestLimits } from './ingest-gate';

const limits = (l: Partial<IngestLimits>): IngestLimits => ({
  maxInFlight: 64,
  maxUploads: 128,
  maxUploadsPerAddress: 32,
  authFailuresPerMinute: 60,
  ...l,
});

describe('IngestGate', () => {
  it('admits up to the in-flight cap and frees each slot once', () => {
    const gate = new IngestGate(limits({ maxInFlight: 2 }));
    const a = gate.tryEnter()!;
    const b = gate.tryEnter()!;
    expect(gate.tryEnter()).toBeNull();
    a();
    a(); // 'finish' and 'close' both release: only once counts
    expect(gate.current.inFlight).toBe(1);
    expect(gate.tryEnter()).not.toBeNull();
    expect(gate.tryEnter()).toBeNull();
    b();
    expect(gate.current.inFlight).toBe(1);
  });

  it('caps uploads per address and in all, independently of the in-flight slots', () => {
    const gate = new IngestGate(limits({ maxInFlight: 1, maxUploads: 3, maxUploadsPerAddress: 2 }));
    const a1 = gate.tryUpload('203.0.113.1') as () => void;
    gate.tryUpload('203.0.113.1');
    expect(gate.tryUpload('203.0.113.1')).toBe('address');
    expect(gate.tryUpload('::ffff:203.0.113.1')).toBe('address');
    expect(typeof gate.tryUpload('203.0.113.2')).toBe('function');
    expect(gate.tryUpload('203.0.113.3')).toBe('total');
    expect(gate.tryEnter()).not.toBeNull();
    a1();
    a1();
    expect(gate.current.uploads).toBe(2);
    expect(typeof gate.tryUpload('203.0.113.1')).toBe('function');
  });
});
