// Packing copies a block of an operand into the panel layout the microkernel reads:
// panels of `width` lines, each stored as `depth` groups of `width` consecutive floats
// (element (line r, depth p) at p·width + r), the last panel zero-padded to full width.
//
// The source is addressed by strides, so one packer serves every operand and transpose:
//   element(r, p) = src[r·lineStride + p·depthStride]   (strides in floats)
// A block of A packs with lines = rows (width MR), a block of B with lines = columns
// (width NR). Zero padding lets the microkernel always compute a full tile; the
// padded lanes are discarded, so they never touch a real output.
export function packPanels(
  src: usize, lineStride: i32, depthStride: i32, lines: i32, depth: i32, width: i32, dst: usize,
): void {
  for (let r0 = 0; r0 < lines; r0 += width) {
    const valid = min(width, lines - r0);
    const panelSrc = src + (<usize>r0 * <usize>lineStride << 2);
    if (valid == width && lineStride == 1) {
      packContiguousLines(panelSrc, depthStride, depth, width, dst);
    } else if (valid == width && depthStride == 1) {
      packContiguousDepth(panelSrc, lineStride, depth, width, dst);
    } else {
      packStrided(panelSrc, lineStride, depthStride, valid, depth, width, dst);
    }
    dst += <usize>width * <usize>depth << 2;
  }
}

// Lines adjacent in memory (A transposed, or B as stored): each depth step is
// `width` (≥ 4) consecutive floats, copied a vector at a time; past a multiple of 4,
// the last vector overlaps the one before it rather than going float by float.
function packContiguousLines(src: usize, depthStride: i32, depth: i32, width: i32, dst: usize): void {
  const step = <usize>depthStride << 2;
  const row = <usize>width << 2;
  const last = row - 16;
  for (let p = 0; p < depth; p++) {
    for (let o: usize = 0; o < last; o += 16) v128.store(dst + o, v128.load(src + o));
    v128.store(dst + last, v128.load(src + last));
    src += step;
    dst += row;
  }
}

// Depth adjacent in memory (A as stored, or B transposed): 4×4 blocks are
// loaded along depth and transposed in registers; lines past a multiple of 4
// are copied one by one.
function packContiguousDepth(src: usize, lineStride: i32, depth: i32, width: i32, dst: usize): void {
  const line = <usize>lineStride << 2;
  const row = <usize>width << 2;
  const depth4 = depth & ~3;
  const width4 = width & ~3;
  for (let r = 0; r < width4; r += 4) {
    const s0 = src + <usize>r * line, s1 = s0 + line, s2 = s1 + line, s3 = s2 + line;
    let d = dst + (<usize>r << 2);
    for (let p = 0; p < depth4; p += 4) {
      const o = <usize>p << 2;
      const l0 = v128.load(s0 + o), l1 = v128.load(s1 + o);
      const l2 = v128.load(s2 + o), l3 = v128.load(s3 + o);
      const lo01 = f32x4.shuffle(l0, l1, 0, 4, 1, 5), hi01 = f32x4.shuffle(l0, l1, 2, 6, 3, 7);
      const lo23 = f32x4.shuffle(l2, l3, 0, 4, 1, 5), hi23 = f32x4.shuffle(l2, l3, 2, 6, 3, 7);
      v128.store(d, f32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
      v128.store(d + row, f32x4.shuffle(lo01, lo23, 2, 3, 6, 7));
      v128.store(d + 2 * row, f32x4.shuffle(hi01, hi23, 0, 1, 4, 5));
      v128.store(d + 3 * row, f32x4.shuffle(hi01, hi23, 2, 3, 6, 7));
      d += 4 * row;
    }
    for (let p = depth4; p < depth; p++) {
      const o = <usize>p << 2;
      store<f32>(d, load<f32>(s0 + o));
      store<f32>(d, load<f32>(s1 + o), 4);
      store<f32>(d, load<f32>(s2 + o), 8);
      store<f32>(d, load<f32>(s3 + o), 12);
      d += row;
    }
  }
  for (let r = width4; r < width; r++) {
    let s = src + <usize>r * line;
    let d = dst + (<usize>r << 2);
    for (let p = 0; p < depth; p++) {
      store<f32>(d, load<f32>(s));
      s += 4;
      d += row;
    }
  }
}

// The general case and the ragged last panel: element by element, zeros past `valid`.
function packStrided(
  src: usize, lineStride: i32, depthStride: i32, valid: i32, depth: i32, width: i32, dst: usize,
): void {
  for (let p = 0; p < depth; p++) {
    const s = src + (<usize>p * <usize>depthStride << 2);
    for (let r = 0; r < width; r++) {
      const value: f32 = r < valid ? load<f32>(s + (<usize>r * <usize>lineStride << 2)) : 0;
      store<f32>(dst, value);
      dst += 4;
    }
  }
}
