/**
 * The disk seam: the journal reaches files only through a Disk, so tests can make a write fail
 * with ENOSPC or EIO, or tear it half-way, at the moment they choose (FaultInjectingDisk).
 */
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statfsSync, truncateSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** A file opened for appending: writes go to its end, `sync` makes them durable. */
export interface AppendFile {
  readonly path: string;
  /** Where the next append goes: the bytes written so far (zero-filled space past it is not counted). */
  readonly size: number;
  append(bytes: Buffer): Promise<void>;
  sync(): Promise<void>;
  /** Cuts the file back to `length` bytes (after a failed append, so no partial record stays). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface Disk {
  mkdirp(path: string): void;
  exists(path: string): boolean;
  /** File names in `dir` (not paths), unsorted. */
  list(dir: string): string[];
  readFile(path: string): Buffer;
  /** `length` bytes of the file at `offset` (a record read back from the journal). */
  readRange(path: string, offset: number, length: number): Buffer;
  truncateFile(path: string, length: number): void;
  remove(path: string): void;
  openAppend(path: string, options?: AppendOptions): Promise<AppendFile>;
  /** Bytes free to an unprivileged writer on the file system holding `path`. */
  freeBytes(path: string): number;
  /** Takes the data directory for this process (mongod.lock); throws if another live process holds it. */
  lockDirectory(dir: string): () => void;
}

export interface AppendOptions {
  /**
   * Every write is durable when it returns (O_DSYNC): one system call instead of a write and an
   * fdatasync, each of which costs a trip through libuv's thread pool. `sync()` then does nothing.
   */
  syncOnWrite?: boolean;
  /**
   * Zero-fills the file this far ahead of its end, in steps of this many bytes, so appends
   * overwrite blocks the file already has and a data sync need not also commit a new file size
   * to the file system's journal (PostgreSQL zero-fills its WAL segments for the same reason).
   * Readers must treat an all-zero tail as the end of the data; `close()` cuts it off.
   */
  preallocateBytes?: number;
}

class NodeAppendFile implements AppendFile {
  /** The file's physical length: `size` plus the zero-filled space ahead of it. */
  private allocated: number;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    public size: number,
    private readonly options: AppendOptions,
  ) {
    this.allocated = size;
  }

  private async writeAll(bytes: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, position + written);
      written += bytesWritten;
    }
  }

  async append(bytes: Buffer): Promise<void> {
    const step = this.options.preallocateBytes ?? 0;
    if (step > 0 && this.size + bytes.length > this.allocated) {
      const target = Math.ceil((this.size + bytes.length) / step) * step;
      // The record goes first and the zeros after it, in one write: the file grows once.
      const fill = Buffer.alloc(target - this.size);
      bytes.copy(fill, 0);
      try {
        await this.writeAll(fill, this.size);
        this.allocated = target;
        this.size += bytes.length;
        return;
      } catch (e) {
        // A disk with room for the record but not for the zeros still takes the record.
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
    await this.writeAll(bytes, this.size);
    this.size += bytes.length;
  }

  sync(): Promise<void> {
    return this.options.syncOnWrite ? Promise.resolve() : this.handle.datasync();
  }

  async truncate(length: number): Promise<void> {
    await this.handle.truncate(length);
    this.size = length;
    this.allocated = length;
  }

  async close(): Promise<void> {
    try {
      // A clean close leaves no zero-filled tail behind (a crash may; readers skip it).
      if (this.allocated > this.size) await this.handle.truncate(this.size);
    } finally {
      await this.handle.close();
    }
  }
}

export const nodeDisk: Disk = {
  mkdirp: (path) => void mkdirSync(path, { recursive: true }),
  exists: (path) => existsSync(path),
  list: (dir) => readdirSync(dir),
  readFile: (path) => readFileSync(path),
  readRange(path, offset, length) {
    const fd = openSync(path, 'r');
    try {
      const out = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, length - got, offset + got);
        if (n === 0) throw new Error(`${path}: ${length} bytes at offset ${offset} run past the end of the file`);
        got += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  },
  truncateFile: (path, length) => truncateSync(path, length),
  remove: (path) => rmSync(path, { force: true, recursive: true }),
  async openAppend(path, options = {}) {
    // Not O_APPEND: appends are positional writes at `size`, which may lie inside zero-filled space.
    const flags = fsConstants.O_RDWR | fsConstants.O_CREAT | (options.syncOnWrite ? fsConstants.O_DSYNC : 0);
    const handle = await open(path, flags, 0o644);
    const { size } = await handle.stat();
    return new NodeAppendFile(path, handle, size, options);
  },
  freeBytes(path) {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  },
  lockDirectory(dir) {
    const path = join(dir, 'mongod.lock');
    if (existsSync(path)) {
      const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      if (pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new Error(`Unable to lock the data directory ${dir}: another process (pid ${pid}) is using it (${path})`);
      }
    }
    const fd = openSync(path, 'w');
    try {
      writeSyncAll(fd, Buffer.from(`${process.pid}\n`));
    } finally {
      closeSync(fd);
    }
    return () => rmSync(path, { force: true });
  },
};

function writeSyncAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What an injected fault does to the next append. */
export type DiskFault = { code: 'ENOSPC' | 'EIO'; /** bytes of the append that reach the file before it fails */ partialBytes?: number; on?: 'append' | 'sync' };

/**
 * A Disk that fails when told to: the next append (or sync) throws the errno error a real
 * file system gives, after writing `partialBytes` of it, as a full disk does mid-write.
 */
export class FaultInjectingDisk implements Disk {
  private faults: DiskFault[] = [];
  /** While set, every append and sync fails with this code (a disk that stays full). */
  persistent: DiskFault | undefined;

  constructor(private readonly inner: Disk = nodeDisk) {}

  failNext(fault: DiskFault): void {
    this.faults.push(fault);
  }

  private take(on: 'append' | 'sync'): DiskFault | undefined {
    if (this.persistent && (this.persistent.on ?? 'append') === on) return this.persistent;
    if (this.persistent && on === 'sync') return undefined;
    const i = this.faults.findIndex((f) => (f.on ?? 'append') === on);
    return i < 0 ? undefined : this.faults.splice(i, 1)[0];
  }

  mkdirp(path: string): void {
    this.inner.mkdirp(path);
  }
  exists(path: string): boolean {
    return this.inner.exists(path);
  }
  list(dir: string): string[] {
    return this.inner.list(dir);
  }
  readFile(path: string): Buffer {
    return this.inner.readFile(path);
  }
  readRange(path: string, offset: number, length: number): Buffer {
    return this.inner.readRange(path, offset, length);
  }
  truncateFile(path: string, length: number): void {
    this.inner.truncateFile(path, length);
  }
  remove(path: string): void {
    this.inner.remove(path);
  }
  freeBytes(path: string): number {
    return this.inner.freeBytes(path);
  }
  lockDirectory(dir: string): () => void {
    return this.inner.lockDirectory(dir);
  }

  async openAppend(path: string, options?: AppendOptions): Promise<AppendFile> {
    const file = await this.inner.openAppend(path, options);
    const disk = this;
    return {
      path,
      get size() {
        return file.size;
      },
      async append(bytes) {
        const fault = disk.take('append');
        if (!fault) return file.append(bytes);
        if (fault.partialBytes) await file.append(bytes.subarray(0, Math.min(fault.partialBytes, bytes.length)));
        throw errnoError(fault.code, path);
      },
      async sync() {
        if (disk.take('sync')) throw errnoError('EIO', path);
        return file.sync();
      },
      truncate: (length) => file.truncate(length),
      close: () => file.close(),
    };
  }
}

function errnoError(code: 'ENOSPC' | 'EIO', path: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  const e = new Error(`${code}: ${text}, write '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.path = path;
  return e;
}
