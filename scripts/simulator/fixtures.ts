import { makeBox, makeRecord, RecordOptions } from './payloads';

type Row = Record<string, unknown>;

/** First event time of the fixtures (the vendor's example is from August 2021). */
const T0 = 1629080261881;
const SEED = 7;

/**
 * The test fixtures, made by the simulator with a fixed seed, so the repository carries no large payload files
 * and every test sees the same bytes. Scenes are 640x360 here (1280x720 in `npm run simulate`) to keep tests quick.
 *
 * typical 0-2: library people with their registered photo and face crop; 3: a stranger the box registers
 * (1001); 4: that stranger again (face crop only, no registered photo); 5: a face-library update (1002);
 * 6: the same stranger registered by a second box under its own id; 7: person 0 coming back at the second box.
 */
export function typicalRecords(sceneWidth = 640): Row[] {
  const a = makeBox(0, SEED);
  const b = makeBox(1, SEED);
  const plan: [typeof a, RecordOptions][] = [
    [a, { kind: 'known', who: 0, device: 0 }],
    [a, { kind: 'known', who: 1, device: 0 }],
    [b, { kind: 'known', who: 2, device: 0 }],
    [a, { kind: 'stranger', who: 0, device: 0 }],
    [a, { kind: 'stranger', who: 0, device: 0 }],
    [b, { kind: 'face-update', who: 3, device: 0 }],
    [b, { kind: 'stranger', who: 0, device: 0 }],
    [b, { kind: 'known', who: 0, device: 0 }],
  ];
  return plan.map(([box, o], i) => makeRecord(box, T0 + i * 2917, { ...o, sceneWidth }));
}

/** 20 records as the simulator makes them, without images (about 3.5 KB each: the feature is most of it). */
export function smallRecords(): Row[] {
  const boxes = [makeBox(2, SEED), makeBox(3, SEED)];
  return Array.from({ length: 20 }, (_, i) => {
    const r = makeRecord(boxes[i % 2], T0 + 100_000 + i * 1531, { sceneWidth: 48 });
    return { ...r, reg_image: '', spot_image: '', ir_image: '', recognize_face_image: '' };
  });
}
