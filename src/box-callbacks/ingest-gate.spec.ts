import { IngestGate } from './ingest-gate';

describe('IngestGate', () => {
  it('admits up to the cap and frees each slot once', () => {
    const gate = new IngestGate(2);
    const a = gate.tryEnter()!;
    const b = gate.tryEnter()!;
    expect(gate.tryEnter()).toBeNull();
    a();
    a(); // 'finish' and 'close' both release: only once counts
    expect(gate.current).toBe(1);
    expect(gate.tryEnter()).not.toBeNull();
    expect(gate.tryEnter()).toBeNull();
    b();
    expect(gate.current).toBe(1);
  });
});
