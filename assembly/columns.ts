// out[j] += Σ_i m[i·cols + j]: the bias gradient, column sums of dY (rows×cols).
export function addColumnSums(m: usize, rows: i32, cols: i32, out: usize): void {
  const cols4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let j = 0; j < cols4; j += 4) {
    const o = <usize>j << 2;
    let sum = v128.load(out + o);
    let row = m + o;
    for (let i = 0; i < rows; i++) {
      sum = f32x4.add(sum, v128.load(row));
      row += rowBytes;
    }
    v128.store(out + o, sum);
  }
  for (let j = cols4; j < cols; j++) {
    const o = <usize>j << 2;
    let sum = load<f32>(out + o);
    let row = m + o;
    for (let i = 0; i < rows; i++) {
      sum += load<f32>(row);
      row += rowBytes;
    }
    store<f32>(out + o, sum);
  }
}
