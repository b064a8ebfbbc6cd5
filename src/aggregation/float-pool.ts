/** Floats per slab: 16 MB, carved into arrays. */
const SLAB_FLOATS = 2 * 1024 * 1024;
/** Arrays larger than this are allocated on their own (rare: a key with thousands of open-tile events). */
const LARGEST_POOLED = 64 * 1024;
const SMALLEST = 16;

/** The size classes: 16, 24, 32, 48, 64, 96, ... up to LARGEST_POOLED (each power of two, then 1.5 times it). */
const CLASSES: number[] = [];
for (let size = SMALLEST; size <= LARGEST_POOLED; size *= 2) CLASSES.push(size, size * 1.5);
CLASSES.pop();

/**
 * Float64Arrays for the tiles of stream processors' key states, carved out of large slabs and
 * reused once released: a state's array grows about once every four events, and a
 * `new Float64Array` of its size took 0.5 to 1.4 µs (a zeroed backing store of its own, which
 * the garbage collector then tracks and frees) where a view on a slab takes 0.04 µs. Memory
 * released to the pool stays in it, for the next states that grow.
 *
 * A released array must not be used again by its former owner: the next `take` of its size hands it out.
 *
 * @example
 * const f = floatPool.take(20); // f.length === 24, contents unspecified
 * floatPool.release(f);
 */
export class FloatPool {
  private readonly free: Float64Array[][] = CLASSES.map(() => []);
  private readonly slabBuffers = new WeakSet<ArrayBufferLike>();
  private slab = new Float64Array(0);
  private slabUsed = 0;
  private slabs = 0;

  /** Bytes of the slabs, and of the released arrays waiting in them for reuse. */
  get bytes(): { slabs: number; waiting: number } {
    const waiting = this.free.reduce((sum, list) => sum + list.reduce((n, floats) => n + floats.byteLength, 0), 0);
    return { slabs: this.slabs * SLAB_FLOATS * 8, waiting };
  }

  /** An array of at least `size` floats (of its size class); its contents are left from earlier use. */
  take(size: number): Float64Array {
    const c = classOf(size);
    if (c < 0) return new Float64Array(size);
    const reused = this.free[c]!.pop();
    if (reused !== undefined) return reused;
    const length = CLASSES[c]!;
    if (this.slabUsed + length > this.slab.length) {
      this.slab = new Float64Array(SLAB_FLOATS);
      this.slabBuffers.add(this.slab.buffer);
      this.slabUsed = 0;
      this.slabs++;
    }
    this.slabUsed += length;
    return this.slab.subarray(this.slabUsed - length, this.slabUsed);
  }

  /** Gives back an array; one not carved by this pool (a decoded state's view on its own bytes, a large one) is left to the garbage collector. */
  release(floats: Float64Array): void {
    // Shorter ones are never pooled, and may be small arrays on the JS heap, whose `.buffer` would allocate one.
    if (floats.length >= SMALLEST && this.slabBuffers.has(floats.buffer)) this.free[classOf(floats.length)]!.push(floats);
  }
}

/** The index of the smallest class that holds `size` floats; -1 when none does. */
function classOf(size: number): number {
  if (size > LARGEST_POOLED) return -1;
  if (size <= SMALLEST) return 0;
  // 2^p < size <= 2^(p+1); 2^p is class 2(p - 4), 1.5 * 2^p the next, 2^(p+1) the one after.
  const p = 31 - Math.clz32(size - 1);
  const c = 2 * (p - 4);
  return size <= 1.5 * 2 ** p ? c + 1 : c + 2;
}

/** The one pool of this thread (state arrays move between keys of every view it processes). */
export const floatPool = new FloatPool();
