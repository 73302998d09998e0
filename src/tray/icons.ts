/**
 * The tray icons, drawn here (no image files to ship or find at run time): a coloured disc with a
 * white glyph per state, as PNG (Linux, macOS) or as an ICO holding that PNG (Windows).
 */
import { deflateSync } from 'node:zlib';

export type FaceState = 'idle' | 'working' | 'needs-you' | 'error' | 'paused';
export const FACE_STATES: readonly FaceState[] = ['idle', 'working', 'needs-you', 'error', 'paused'];

/** Disc colours; tests look for them in screenshots. */
export const STATE_COLOURS: Readonly<Record<FaceState, [number, number, number]>> = {
  idle: [0x2e, 0x7d, 0x32],
  working: [0x15, 0x65, 0xc0],
  'needs-you': [0xef, 0x6c, 0x00],
  error: [0xc6, 0x28, 0x28],
  paused: [0x61, 0x61, 0x61],
};

type Shape = (x: number, y: number) => boolean;

const segment = (ax: number, ay: number, bx: number, by: number, r: number): Shape => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= r;
};
const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const disc = (cx: number, cy: number, r: number): Shape => (x, y) => Math.hypot(x - cx, y - cy) <= r;

/** Glyphs on a 32-unit grid. */
const GLYPHS: Readonly<Record<FaceState, Shape[]>> = {
  idle: [segment(9, 16.5, 14, 21.5, 2.2), segment(14, 21.5, 23, 11, 2.2)],
  working: [disc(9.5, 16, 2.6), disc(16, 16, 2.6), disc(22.5, 16, 2.6)],
  'needs-you': [rect(14, 7, 18, 19), disc(16, 23.5, 2.3)],
  error: [segment(10.5, 10.5, 21.5, 21.5, 2.3), segment(21.5, 10.5, 10.5, 21.5, 2.3)],
  paused: [rect(10.5, 9, 14, 23), rect(18, 9, 21.5, 23)],
};

/** RGBA pixels of the icon at `size`×`size`, 4×4 supersampled for smooth edges. */
export function iconPixels(state: FaceState, size = 32): Buffer {
  const [r, g, b] = STATE_COLOURS[state];
  const out = Buffer.alloc(size * size * 4);
  const s = 32 / size;
  const glyph = GLYPHS[state];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let cover = 0;
      let white = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const x = (px + (sx + 0.5) / 4) * s;
          const y = (py + (sy + 0.5) / 4) * s;
          if (Math.hypot(x - 16, y - 16) > 15) continue;
          cover++;
          if (glyph.some((f) => f(x, y))) white++;
        }
      }
      const o = (py * size + px) * 4;
      if (cover === 0) continue;
      const w = white / cover;
      out[o] = Math.round(r + (255 - r) * w);
      out[o + 1] = Math.round(g + (255 - g) * w);
      out[o + 2] = Math.round(b + (255 - b) * w);
      out[o + 3] = Math.round((cover / 16) * 255);
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A PNG (8-bit RGBA, no interlace) of the pixels. */
export function encodePng(rgba: Buffer, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** An ICO file holding one PNG image (Windows Vista and later read PNG inside ICO). */
export function encodeIco(png: Buffer, size: number): Buffer {
  const head = Buffer.alloc(22);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(1, 4);
  head[6] = size >= 256 ? 0 : size;
  head[7] = size >= 256 ? 0 : size;
  head.writeUInt16LE(1, 10);
  head.writeUInt16LE(32, 12);
  head.writeUInt32LE(png.length, 14);
  head.writeUInt32LE(22, 18);
  return Buffer.concat([head, png]);
}

const cache = new Map<string, string>();

/** The icon for systray2: base64 of a PNG, or of an ICO on Windows. */
export function trayIconBase64(state: FaceState, platform: NodeJS.Platform = process.platform): string {
  const key = `${state}:${platform}`;
  let v = cache.get(key);
  if (v === undefined) {
    const size = 32;
    const png = encodePng(iconPixels(state, size), size, size);
    v = (platform === 'win32' ? encodeIco(png, size) : png).toString('base64');
    cache.set(key, v);
  }
  return v;
}
