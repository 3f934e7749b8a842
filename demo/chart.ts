// Line charts and a digit strip on <canvas>, no chart library: the demo redraws them many times
// a second while training, and each draw is a few hundred path segments.

export interface Series {
  xs: number[];
  ys: number[];
  color: string;
  width: number;
  /** Mark each point (for sparse series such as periodic evaluations). */
  dots?: boolean;
}

export interface ChartOptions {
  /** The x axis runs from 0 to xMax, labelled at every integer (epochs). */
  xMax: number;
  yMin: number;
  yMax: number;
  /** Distance between horizontal grid lines. */
  yStep: number;
  formatY: (y: number) => string;
  series: Series[];
  /** A dashed reference line, e.g. a target. */
  guide?: { y: number; label: string };
}

const PAD = { left: 44, right: 12, top: 10, bottom: 24 };
const INK = '#64748b', GRID = '#e2e8f0', FONT = '11px system-ui, sans-serif';

/** Sizes the canvas to its CSS box times the pixel ratio (crisp lines), returns the context in CSS pixels. */
function prepare(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; width: number; height: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  return { g, width, height };
}

export function drawChart(canvas: HTMLCanvasElement, o: ChartOptions): void {
  const { g, width, height } = prepare(canvas);
  const plotW = width - PAD.left - PAD.right, plotH = height - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + (v / o.xMax) * plotW;
  const y = (v: number) => PAD.top + (1 - (v - o.yMin) / (o.yMax - o.yMin)) * plotH;

  g.font = FONT;
  g.lineWidth = 1;
  g.fillStyle = INK;
  g.strokeStyle = GRID;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let v = o.yMin; v <= o.yMax + 1e-9; v += o.yStep) {
    g.beginPath();
    g.moveTo(PAD.left, Math.round(y(v)) + 0.5);
    g.lineTo(width - PAD.right, Math.round(y(v)) + 0.5);
    g.stroke();
    g.fillText(o.formatY(v), PAD.left - 6, y(v));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (let epoch = 0; epoch <= o.xMax; epoch++) g.fillText(String(epoch), x(epoch), height - PAD.bottom + 6);

  // Everything below is clipped to the plot, so values outside [yMin, yMax] run off its edge.
  g.save();
  g.beginPath();
  g.rect(PAD.left, PAD.top, plotW, plotH);
  g.clip();
  if (o.guide) {
    g.setLineDash([4, 4]);
    g.strokeStyle = '#f59e0b';
    g.beginPath();
    g.moveTo(PAD.left, y(o.guide.y));
    g.lineTo(width - PAD.right, y(o.guide.y));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#b45309';
    g.textAlign = 'right';
    g.textBaseline = 'bottom';
    g.fillText(o.guide.label, width - PAD.right - 4, y(o.guide.y) - 2);
  }
  for (const s of o.series) {
    g.strokeStyle = g.fillStyle = s.color;
    g.lineWidth = s.width;
    g.lineJoin = 'round';
    g.beginPath();
    s.xs.forEach((xv, i) => (i === 0 ? g.moveTo(x(xv), y(s.ys[i])) : g.lineTo(x(xv), y(s.ys[i]))));
    g.stroke();
    if (s.dots) {
      s.xs.forEach((xv, i) => {
        g.beginPath();
        g.arc(x(xv), y(s.ys[i]), 2.5, 0, 2 * Math.PI);
        g.fill();
      });
    }
  }
  g.restore();
}

/**
 * The first `count` digits of a set, each with the class the model predicts beneath it: green when
 * right, red when wrong. `pixels` holds 28×28 floats in [0, 1] per digit.
 */
export function drawDigits(
  canvas: HTMLCanvasElement, pixels: Float32Array, labels: Uint8Array, predictions: Uint8Array | null, count: number,
): void {
  const { g, width } = prepare(canvas);
  const cell = width / count, size = Math.min(cell - 6, 48);
  const tile = new OffscreenCanvas(28, 28);
  const image = new ImageData(28, 28);
  for (let d = 0; d < count; d++) {
    for (let p = 0; p < 28 * 28; p++) {
      const ink = 255 - Math.round(pixels[d * 784 + p] * 255); // dark digits on white, as on paper
      image.data.set([ink, ink, ink, 255], p * 4);
    }
    tile.getContext('2d')!.putImageData(image, 0, 0);
    const left = d * cell + (cell - size) / 2;
    g.drawImage(tile, left, 2, size, size);
    if (!predictions) continue;
    g.font = 'bold 13px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillStyle = predictions[d] === labels[d] ? '#16a34a' : '#dc2626';
    g.fillText(String(predictions[d]), left + size / 2, size + 6);
  }
}
