/**
 * The node image, made without a registry: a tarball holding this machine's Node.js binary, the
 * shared libraries `ldd` lists for it and the dynamic loader, a minimal /etc and /tmp, imported
 * with the engine's import API (`POST /images/create?fromSrc=-`). It is tagged with a hash of
 * everything that went in (`dsync-node:<hash>`): reused while that image exists, rebuilt when
 * Node.js or a library changes. The local mode's image holds no more: containers bind-mount the
 * project. The remote mode's image (`remote-image.ts`) adds the project and iptables, with a
 * recipe of its own, so the two never share a tag.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { pack as tarPack, type Pack } from 'tar-stream';
import { IMAGE_LABEL, engineMessage, engineStatus } from './engine.js';

/** The image's repository name. */
export const IMAGE_REPO = 'dsync-node';

/** Where the Node.js binary is in the image. */
export const IMAGE_NODE = '/usr/local/bin/node';

/** Bumped when the recipe changes (what goes in besides the files), so old images are not reused. */
export const RECIPE = 'dsync-node-image/1';

/** One file of the image: where it goes, where it comes from on this machine. */
export interface ImageFile {
  /** Absolute path in the image. */
  readonly path: string;
  /** The file on this machine (symlinks followed). */
  readonly source: string;
  readonly mode: number;
  /** A shared library: its folder goes on the image's `LD_LIBRARY_PATH`. @default false */
  readonly lib?: boolean;
}

/** What an image is made of: the files, and a recipe name that changes when anything else about it does. */
export interface ImageRecipe {
  readonly recipe: string;
  readonly files: readonly ImageFile[];
  /** Empty folders to make (besides `/tmp`), e.g. `/run`. @default none */
  readonly dirs?: readonly string[];
}

/** Small files written as they are (path → content). */
const ETC: ReadonlyMap<string, string> = new Map([
  ['/etc/passwd', 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n'],
  ['/etc/group', 'root:x:0:\nnogroup:x:65534:\n'],
  ['/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n'],
]);

const run = promisify(execFile);

/**
 * The shared libraries and the loader `ldd` lists for `binary`, by the paths it prints.
 * @throws naming ldd's complaint, e.g. a library it cannot find
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (/not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`;
    // linux-vdso has no file.
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1] !== undefined) libs.add(m[1]);
  }
  if (libs.size === 0) throw new Error(`ldd ${binary} listed no libraries (a static binary needs none, but then say so: ${stdout.trim()})`);
  return [...libs].sort();
}

/** The files of the image: Node.js (`process.execPath`) at {@link IMAGE_NODE}, its libraries where `ldd` says. */
export async function imageFiles(node: string = process.execPath): Promise<ImageFile[]> {
  const libs = await sharedLibraries(node);
  return [{ path: IMAGE_NODE, source: node, mode: 0o755 }, ...libs.map((l) => ({ path: l, source: l, mode: 0o755, lib: true }))];
}

/** The engine's `changes` for the import: environment and label. */
function importChanges(files: readonly ImageFile[], hash: string): string[] {
  const libDirs = [...new Set(files.filter((f) => f.lib === true).map((f) => dirname(f.path)))].sort();
  return [`ENV PATH=${dirname(IMAGE_NODE)}`, `ENV LD_LIBRARY_PATH=${libDirs.join(':')}`, `LABEL ${IMAGE_LABEL}=${hash}`];
}

/** How many files are read at once while hashing. */
const HASH_BATCH = 64;

/**
 * Hashes already made in this process, by what the files looked like then (path, source, mode,
 * size, modification time, inode): a suite of runs reads the ~100 MB of Node.js and its libraries
 * (and, remotely, thousands of project files) once, not once per run.
 */
const hashes = new Map<string, string>();

/** A hash of everything the image is made of: the recipe, each file's path, mode and bytes, the small files. */
export async function imageHash(files: readonly ImageFile[], recipe: string = RECIPE, dirs: readonly string[] = []): Promise<string> {
  const sorted = [...files].sort((a, b) => a.path.localeCompare(b.path));
  const looks = (f: ImageFile): string => {
    const st = statSync(f.source);
    return `${f.path}\0${f.source}\0${f.mode}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  };
  const seen = [recipe, ...dirs, ...sorted.map(looks)].join('\n');
  const known = hashes.get(seen);
  if (known !== undefined) return known;
  const h = createHash('sha256').update(recipe);
  // Read a batch at a time (thousands of small files in the remote image), hashed in order.
  for (let i = 0; i < sorted.length; i += HASH_BATCH) {
    const batch = sorted.slice(i, i + HASH_BATCH);
    const bodies = await Promise.all(batch.map((f) => readFile(f.source)));
    batch.forEach((f, k) => h.update(`\0file ${f.path} ${f.mode.toString(8)}\0`).update(bodies[k] as Buffer));
  }
  for (const [path, text] of ETC) h.update(`\0etc ${path}\0${text}`);
  for (const d of dirs) h.update(`\0dir ${d}`);
  const hash = h.digest('hex').slice(0, 16);
  hashes.set(seen, hash);
  return hash;
}

/** Every parent folder of `paths`, outermost first. */
function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = dirname(p); d !== '/'; d = dirname(d)) dirs.add(d);
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** Adds one entry to `pack` and resolves when it is written. */
function entry(pack: Pack, header: Parameters<Pack['entry']>[0], body?: Buffer | string | NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
      return;
    }
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    body.on('error', reject);
    body.pipe(sink);
  });
}

/** The image's root file system as a tar stream (written as it is read). */
export function imageTarball(files: readonly ImageFile[], dirs: readonly string[] = []): Pack {
  const pack = tarPack();
  const name = (p: string): string => p.replace(/^\//, '');
  void (async () => {
    const mtime = new Date(0);
    for (const d of parentDirs([...files.map((f) => f.path), ...ETC.keys(), ...dirs.map((d) => `${d}/.`)])) await entry(pack, { name: `${name(d)}/`, type: 'directory', mode: 0o755, mtime });
    await entry(pack, { name: 'tmp/', type: 'directory', mode: 0o1777, mtime });
    for (const [path, text] of ETC) await entry(pack, { name: name(path), mode: 0o644, mtime }, text);
    for (const f of files) await entry(pack, { name: name(f.path), mode: f.mode, size: statSync(f.source).size, mtime }, createReadStream(f.source));
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  return pack;
}

/** What {@link ensureNodeImage} did. */
export interface NodeImage {
  /** `dsync-node:<hash>`. */
  readonly tag: string;
  /** True when it was imported now, false when an image with that hash was there. */
  readonly built: boolean;
  readonly ms: number;
}

/** Whether the engine has `tag`. */
async function hasImage(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (e) {
    if (engineStatus(e) === 404) return false;
    throw e;
  }
}

/** Reads an engine progress stream to its end; rejects with the first error it reports. */
function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err) return reject(err);
      const failed = output.find((o): o is { error: string } => typeof (o as { error?: unknown } | null)?.error === 'string');
      if (failed) return reject(new Error(failed.error));
      resolve();
    });
  });
}

/**
 * The node image on `docker`: reused when one with the hash of this machine's Node.js and
 * libraries exists, imported from a fresh tarball otherwise.
 */
export async function ensureNodeImage(docker: Docker, node: string = process.execPath): Promise<NodeImage> {
  return ensureImage(docker, { recipe: RECIPE, files: await imageFiles(node) });
}

/** The image `recipe` makes on `docker`: reused when one with its hash exists, imported otherwise. */
export async function ensureImage(docker: Docker, recipe: ImageRecipe): Promise<NodeImage> {
  const t0 = performance.now();
  const { files } = recipe;
  const dirs = recipe.dirs ?? [];
  const hash = await imageHash(files, recipe.recipe, dirs);
  const tag = `${IMAGE_REPO}:${hash}`;
  if (await hasImage(docker, tag)) return { tag, built: false, ms: performance.now() - t0 };
  try {
    const progress = await docker.importImage(imageTarball(files, dirs), { repo: IMAGE_REPO, tag: hash, changes: importChanges(files, hash) });
    await followProgress(docker, progress);
  } catch (e) {
    throw new Error(`importing the node image ${tag} failed: ${engineMessage(e)}`);
  }
  if (!(await hasImage(docker, tag))) throw new Error(`the engine accepted the node image ${tag} but does not list it`);
  return { tag, built: true, ms: performance.now() - t0 };
}
