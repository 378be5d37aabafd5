/**
 * A deterministic ustar writer: entries in the order given, owner root, mtime 0. The same entries
 * always give the same bytes, so the same bundle always gives the same image digest.
 */

/** One entry of a tar stream. */
export type TarEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly data: Buffer }

const BLOCK = 512

/** The tar stream of `entries` as chunks (headers, contents, padding, the two end blocks). */
export function tarChunks(entries: readonly TarEntry[]): Buffer[] {
  const chunks: Buffer[] = []
  for (const entry of entries) {
    const size = entry.type === 'file' ? entry.data.length : 0
    chunks.push(header(entry, size))
    if (entry.type === 'file' && size > 0) {
      chunks.push(entry.data)
      const pad = (BLOCK - (size % BLOCK)) % BLOCK
      if (pad > 0) chunks.push(Buffer.alloc(pad))
    }
  }
  chunks.push(Buffer.alloc(BLOCK * 2))
  return chunks
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK)
  const path = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path
  const { name, prefix } = splitPath(path)
  block.write(name, 0, 100, 'utf8')
  octal(block, 100, 8, entry.mode)
  octal(block, 108, 8, 0) // uid
  octal(block, 116, 8, 0) // gid
  octal(block, 124, 12, size)
  octal(block, 136, 12, 0) // mtime
  block.fill(' ', 148, 156) // the checksum counts its own field as spaces
  block.write(entry.type === 'dir' ? '5' : '0', 156, 1, 'ascii')
  block.write('ustar\u000000', 257, 8, 'ascii')
  block.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii')
  return block
}

// ustar keeps up to 100 bytes of name and 155 of prefix, split at a slash.
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' }
  for (let cut = path.indexOf('/'); cut >= 0; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut)
    const name = path.slice(cut + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix }
  }
  throw new Error(`tar: path too long for ustar: ${path}`)
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii')
}
