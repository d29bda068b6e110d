import * as fs from 'node:fs';

/**
 * usearch removes a vector lazily: the key is marked free, but the vector's bytes stay in its slot (in memory and in
 * every file `save` writes) until a later add reuses the slot. An erased record's vector must not survive in a
 * snapshot, so after `save` the rows of free slots are zeroed in the file. Layout of an index_dense file (usearch
 * 2.x, 32-bit dimensions): rows u32, bytes per row u32, the rows; a 64-byte head ("usearch", version, kinds,
 * count_present u64 at 17, count_deleted u64 at 25, …); the graph: size, connectivity, connectivity_base, max_level,
 * entry_slot (u64 each), one i16 level per node, then the nodes, each its key (u64), level (i16) and neighbour lists
 * (a u32 count and slots, connectivity_base of them at level 0, connectivity at each level above). The slot width is
 * solved from the file size and every count is checked, so a layout this code does not know throws instead of
 * zeroing the wrong bytes.
 */
const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const FREE_KEY = 0xffff_ffff_ffff_ffffn;
const SLICE = 8 << 20;

/** Zeroes the vectors of removed keys in a saved usearch index file; how many. Throws on a layout it does not know. */
export function scrubRemovedVectors(file: string): number {
  const fd = fs.openSync(file, 'r+');
  try {
    const { size, read, rows, cols, present, deleted, graphAt } = readHead(fd);
    const graph = read(graphAt, GRAPH_HEADER_BYTES);
    const nodes = Number(graph.readBigUInt64LE(0));
    const connectivity = Number(graph.readBigUInt64LE(8));
    const connectivityBase = Number(graph.readBigUInt64LE(16));
    if (nodes !== rows || present + deleted !== rows) throw layoutError(`${rows} rows, ${nodes} nodes, ${present}+${deleted} keys`);
    if (deleted === 0) return 0;
    const levelBytes = read(graphAt + GRAPH_HEADER_BYTES, 2 * nodes);
    const levels = new Int16Array(nodes);
    let levelSum = 0;
    for (let i = 0; i < nodes; i++) levelSum += levels[i] = levelBytes.readInt16LE(2 * i);
    // Node bytes: 8 + 2 + (4 + slot * base) + level * (4 + slot * connectivity); solve for the slot width.
    const nodesAt = graphAt + GRAPH_HEADER_BYTES + 2 * nodes;
    const perSlot = nodes * connectivityBase + levelSum * connectivity;
    const slot = (size - nodesAt - nodes * 14 - levelSum * 4) / perSlot;
    if (!Number.isInteger(slot) || slot < 4 || slot > 8) throw layoutError('node size');
    const zero = Buffer.alloc(cols);
    let buf: Buffer = Buffer.alloc(0);
    let bufAt = 0;
    let at = nodesAt;
    let scrubbed = 0;
    for (let i = 0; i < nodes; i++) {
      if (at + 8 > bufAt + buf.length) {
        bufAt = at;
        buf = read(at, Math.min(SLICE, size - at));
      }
      if (buf.readBigUInt64LE(at - bufAt) === FREE_KEY) {
        fs.writeSync(fd, zero, 0, cols, 8 + i * cols);
        scrubbed++;
      }
      at += 14 + slot * connectivityBase + levels[i] * (4 + slot * connectivity);
    }
    if (at !== size || scrubbed !== deleted) throw layoutError(`found ${scrubbed} removed keys, the head says ${deleted}`);
    return scrubbed;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * How many removed keys a saved usearch index file holds (its head's count). usearch 2.25's loader mishandles them:
 * it sizes its slot table for the live keys only, and the next adds write past it (heap corruption, reproduced), so
 * such a file is never loaded.
 */
export function removedKeysIn(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    return readHead(fd).deleted;
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's size, a bounded reader, its vector block's shape, its head's key counts and where the graph starts. */
function readHead(fd: number) {
  const size = fs.fstatSync(fd).size;
  const read = (at: number, length: number): Buffer => {
    const b = Buffer.alloc(length);
    if (at + length > size || fs.readSync(fd, b, 0, length, at) !== length) throw layoutError('truncated');
    return b;
  };
  const dims = read(0, 8);
  const rows = dims.readUInt32LE(0);
  const cols = dims.readUInt32LE(4);
  const head = read(8 + rows * cols, HEAD_BYTES);
  if (head.toString('latin1', 0, 7) !== 'usearch') throw layoutError('no usearch head after the vectors');
  const present = Number(head.readBigUInt64LE(17));
  const deleted = Number(head.readBigUInt64LE(25));
  return { size, read, rows, cols, present, deleted, graphAt: 8 + rows * cols + HEAD_BYTES };
}

function layoutError(what: string): Error {
  return new Error(`usearch index file has an unknown layout (${what}): removed vectors not scrubbed`);
}
