// The packet's container: a ZIP whose entries are *stored* (method 0), with fixed times and no
// extra fields or comment. Why not deflate: a deflate stream has bits a decoder ignores (the
// padding after the last block), so a flipped byte there would go unnoticed; stored, every byte of
// the archive is either a header the reader recomputes exactly from the entry's name and content,
// or content that the manifest hashes. Compress the .zip for transport if size matters.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export interface ZipEntry {
  path: string;
  data: Buffer;
  /** The CRC-32 the archive declares for it (set by readStoredZip). */
  crc?: number;
}

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

/** 1980-01-01 00:00:00 in MS-DOS form: the packet's files carry no file-system time. */
const dosTime = 0;
const dosDate = (0 << 9) | (1 << 5) | 1;
const utf8Flag = 0x0800;

function localHeader(name: Buffer, crc: number, size: number): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(utf8Flag, 6);
  header.writeUInt16LE(0, 8);
  header.writeUInt16LE(dosTime, 10);
  header.writeUInt16LE(dosDate, 12);
  header.writeUInt32LE(crc, 14);
  header.writeUInt32LE(size, 18);
  header.writeUInt32LE(size, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, name]);
}

function centralHeader(name: Buffer, crc: number, size: number, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(utf8Flag, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(dosTime, 12);
  header.writeUInt16LE(dosDate, 14);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(size, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, name]);
}

function endRecord(count: number, centralSize: number, centralOffset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return end;
}

const maxStored = 0xffff_fffe;

/**
 * Buffer.concat into shared memory: a packet is verified by two threads at once
 * (verifyPacketAsync), and a SharedArrayBuffer reaches the second without a copy of its bytes
 * (about 65 ms of the calling thread for a 138 MB packet).
 */
export function sharedConcat(parts: Buffer[]): Buffer {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = Buffer.from(new SharedArrayBuffer(total));
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  return out;
}

/** A packet file read into shared memory (see sharedConcat). */
export function readPacketFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = Buffer.from(new SharedArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const read = readSync(fd, out, at, size - at, at);
      if (read === 0) break;
      at += read;
    }
    return at === size ? out : out.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** The archive of these entries, in this order: the same entries always give the same bytes. */
export function writeStoredZip(entries: ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    if (entry.data.length > maxStored) throw new ZipFormatError(`${entry.path} is too large for a packet`);
    const name = Buffer.from(entry.path, 'utf8');
    const crc = crc32(entry.data);
    const header = localHeader(name, crc, entry.data.length);
    central.push(centralHeader(name, crc, entry.data.length, offset));
    parts.push(header, entry.data);
    offset += header.length + entry.data.length;
  }
  const centralBytes = Buffer.concat(central);
  return sharedConcat([...parts, centralBytes, endRecord(entries.length, centralBytes.length, offset)]);
}

/**
 * Reads an archive written by writeStoredZip, and only such an archive: after reading the entries
 * it writes them again and requires the same bytes, so a change to any header byte, a gap, a
 * comment or an extra field is refused, and the message names the entry it is in.
 */
export function readStoredZip(
  bytes: Buffer,
  /** skipCrc: the caller checks each entry's declared crc itself (verifyPacketAsync's worker). */
  options: { skipCrc?: boolean } = {},
): ZipEntry[] {
  if (bytes.length < 22) throw new ZipFormatError('the packet is not a ZIP archive (too short)');
  const endAt = bytes.length - 22;
  if (bytes.readUInt32LE(endAt) !== 0x06054b50) {
    throw new ZipFormatError('the packet does not end with a ZIP end record (truncated, or bytes appended)');
  }
  const count = bytes.readUInt16LE(endAt + 10);
  const centralOffset = bytes.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  const crcs: number[] = [];
  let at = centralOffset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > endAt || bytes.readUInt32LE(at) !== 0x02014b50) {
      throw new ZipFormatError(`the ZIP directory is damaged at entry ${index + 1}`);
    }
    const nameLength = bytes.readUInt16LE(at + 28);
    const extra = bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const size = bytes.readUInt32LE(at + 24);
    const crc = bytes.readUInt32LE(at + 16);
    const local = bytes.readUInt32LE(at + 42);
    at += 46 + nameLength + extra;
    if (local + 30 > endAt || bytes.readUInt32LE(local) !== 0x04034b50) {
      throw new ZipFormatError(`${name}: its local header is damaged`);
    }
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    if (start + size > centralOffset) throw new ZipFormatError(`${name}: its data runs past the directory`);
    const data = bytes.subarray(start, start + size);
    if (options.skipCrc !== true && crc32(data) !== crc)
      throw new ZipFormatError(`${name}: its bytes do not match their CRC-32 in the ZIP`);
    entries.push({ path: name, data, crc });
    crcs.push(crc);
  }
  // The bytes writeStoredZip gives for these entries, compared header by header without copying the
  // entries' data (which was read from where those headers put it); the full rewrite only to name
  // the first difference.
  if (!sameLayout(bytes, entries, crcs)) {
    const again = writeStoredZip(entries);
    const offset = firstDifference(again, bytes);
    throw new ZipFormatError(
      `${entryAtOffset(again, entries, offset)}: ZIP structure differs at byte ${offset}`,
    );
  }
  return entries;
}

function sameLayout(bytes: Buffer, entries: ZipEntry[], crcs: number[]): boolean {
  const central: Buffer[] = [];
  let offset = 0;
  for (const [index, entry] of entries.entries()) {
    const name = Buffer.from(entry.path, 'utf8');
    const crc = crcs[index] as number;
    const header = localHeader(name, crc, entry.data.length);
    if (!bytes.subarray(offset, offset + header.length).equals(header)) return false;
    // The data must be the bytes right after the header (a view of `bytes` at that offset).
    if (entry.data.byteOffset - bytes.byteOffset !== offset + header.length) return false;
    central.push(centralHeader(name, crc, entry.data.length, offset));
    offset += header.length + entry.data.length;
  }
  const centralBytes = Buffer.concat(central);
  const tail = Buffer.concat([centralBytes, endRecord(entries.length, centralBytes.length, offset)]);
  return bytes.length === offset + tail.length && bytes.subarray(offset).equals(tail);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}

/** Which entry (or the directory) a byte offset of a well-formed packet belongs to. */
function entryAtOffset(bytes: Buffer, entries: ZipEntry[], offset: number): string {
  let at = 0;
  for (const entry of entries) {
    const end = at + 30 + Buffer.byteLength(entry.path) + entry.data.length;
    if (offset < end) return entry.path;
    at = end;
  }
  return offset < bytes.length - 22 ? 'the ZIP directory' : 'the ZIP end record';
}
