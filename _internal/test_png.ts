/**
 * Tests only: PNG files of any size made in milliseconds, for the decompression-bomb tests (a
 * valid 16000 x 16000 PNG without ever holding its 256 MB of pixels).
 *
 * @module
 */
/** CRC-32 of PNG chunks (zlib's polynomial). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  let c = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) c = CRC_TABLE[(c ^ out[i]) & 0xff] ^ (c >>> 8);
  view.setUint32(8 + data.length, (c ^ 0xffffffff) >>> 0);
  return out;
}

/**
 * A zlib stream of `n` zero bytes, written directly: one fixed-Huffman deflate block of a literal
 * 0 and then matches of 258 bytes at distance 1 (13 bits each), so that 256 MB of zeros cost
 * 1.6 MB and a few milliseconds, where a compressor would have to read them all.
 */
export function zlibZeros(n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((n / 258) * 13 / 8) + 4096);
  let at = 2, acc = 0, bits = 0;
  out.set([0x78, 0x01]);
  const put = (value: number, count: number) => { // LSB first
    acc |= value << bits;
    bits += count;
    while (bits >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  };
  const code = (value: number, count: number) => { // Huffman codes: most significant bit first
    for (let i = count - 1; i >= 0; i--) put((value >> i) & 1, 1);
  };
  put(1, 1); // BFINAL
  put(1, 2); // fixed Huffman codes
  code(0x30, 8); // literal 0
  let left = n - 1;
  for (; left >= 258; left -= 258) {
    code(0xc5, 8); // length 258 (code 285)
    code(0, 5); // distance 1
  }
  for (; left > 0; left--) code(0x30, 8);
  code(0, 7); // end of block
  if (bits > 0) put(0, 8 - bits);
  const adler = (((n % 65521) << 16) >>> 0) | 1; // a = 1 + 0s = 1, b = n * 1
  new DataView(out.buffer).setUint32(at, adler >>> 0);
  return out.slice(0, at + 4);
}

/** A valid all-black 8-bit greyscale PNG of `width` x `height` (see {@link zlibZeros}). */
export function greyPng(width: number, height: number): Uint8Array {
  const idat = zlibZeros(height * (width + 1));
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const chunks = [
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(8 + chunks.reduce((s, c) => s + c.length, 0));
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 8);
  return out;
}
