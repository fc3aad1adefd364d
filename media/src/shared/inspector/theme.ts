// Colours come from VS Code's theme variables, read when the theme changes (the body's
// class and style attributes change), so light, dark and high-contrast themes all work.

export interface Theme {
  fg: string;
  bg: string;
  muted: string;
  accent: string;
  highlight: string;
  highContrast: boolean;
  /** 256 RGBA entries: attention byte -> heat colour, background to accent. */
  heat: Uint32Array;
  /** Diverging ramp for values in [-1, 1] (index (v + 1) * 127.5). */
  diverging: Uint32Array;
  headColor(h: number, NH: number): string;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const probe = document.createElement('canvas').getContext('2d')!;

function rgb(colour: string): [number, number, number] {
  probe.fillStyle = '#000000';
  probe.fillStyle = colour;
  const s = String(probe.fillStyle);
  if (s.startsWith('#')) return [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

function ramp(from: [number, number, number], to: [number, number, number], n: number, curve: (x: number) => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const x = curve(i / (n - 1));
    const r = Math.round(from[0] + (to[0] - from[0]) * x);
    const g = Math.round(from[1] + (to[1] - from[1]) * x);
    const b = Math.round(from[2] + (to[2] - from[2]) * x);
    out[i] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA in ImageData
  }
  return out;
}

export function readTheme(): Theme {
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const light = document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light');
  const fg = cssVar('--vscode-foreground', light ? '#333333' : '#cccccc');
  const bg = cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e');
  const accent = cssVar('--vscode-charts-orange', cssVar('--vscode-textLink-foreground', '#d18616'));
  const other = cssVar('--vscode-charts-blue', '#3794ff');
  const bgc = rgb(bg);
  const heat = ramp(bgc, rgb(highContrast ? fg : accent), 256, (x) => x);
  const left = ramp(rgb(other), bgc, 128, (x) => x);
  const right = ramp(bgc, rgb(accent), 128, (x) => x);
  const diverging = new Uint32Array(256);
  diverging.set(left, 0);
  diverging.set(right, 128);
  return {
    fg,
    bg,
    muted: cssVar('--vscode-descriptionForeground', fg),
    accent,
    highlight: cssVar('--vscode-editor-findMatchHighlightBackground', 'rgba(234, 92, 0, 0.33)'),
    highContrast,
    heat,
    diverging,
    headColor: (h, NH) => `hsl(${Math.round((h * 360) / Math.max(1, NH))}, ${highContrast ? 100 : 70}%, ${light ? 40 : 62}%)`,
  };
}

/** Sizes a canvas for the device pixel ratio and returns its context scaled to CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
