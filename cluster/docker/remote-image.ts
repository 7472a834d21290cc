/**
 * The node image of the remote mode: the local mode's image (Node.js and its libraries) plus the
 * project's runtime files at {@link IMAGE_PROJECT} — `package.json`, `bin/`, `dist/` without
 * `dist/test`, the production dependencies in `node_modules` — and iptables as Debian ships it on
 * this machine (the multi-call binary `iptables` resolves to, its libraries, the xtables extension
 * modules), so that partitions can be applied inside the containers through the engine's exec API.
 * Its hash covers all of it: a change to the code makes a new image.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { imageFiles, sharedLibraries, type ImageFile, type ImageRecipe } from './image.js';

/** Where the project is in the remote image. */
export const IMAGE_PROJECT = '/dsync';
/** The iptables programs in the remote image (copies of one multi-call binary, told apart by name). */
export const IMAGE_IPTABLES = '/usr/sbin/iptables';
export const IMAGE_IPTABLES_RESTORE = '/usr/sbin/iptables-restore';

const RECIPE = 'dsync-node-image-remote/1';
/** Where Debian's iptables looks for its extension modules (compiled in as XTABLES_LIBDIR). */
const XTABLES_DIRS = ['/usr/lib/x86_64-linux-gnu/xtables', '/usr/lib/aarch64-linux-gnu/xtables', '/usr/lib/xtables'];

/** Every regular file under `dir` (symlinks followed), skipping the folder names in `skip`. */
function walk(dir: string, skip: (rel: string) => boolean, root: string = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    const rel = relative(root, full);
    if (skip(rel)) continue;
    let st;
    try {
      st = statSync(full);
    } catch {
      continue; // a dangling link
    }
    if (st.isDirectory()) out.push(...walk(full, skip, root));
    else if (st.isFile()) out.push(full);
  }
  return out;
}

/**
 * The package folders of `node_modules` that production needs, by `package-lock.json` (every
 * entry not marked `dev`), as paths relative to the project; null when there is no lock file.
 */
function productionPackages(projectRoot: string): string[] | null {
  const lockFile = join(projectRoot, 'package-lock.json');
  if (!existsSync(lockFile)) return null;
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path.startsWith('node_modules/') && p.dev !== true)
    .map(([path]) => path)
    .filter((path) => existsSync(join(projectRoot, path)));
}

/** The project's runtime files, placed under {@link IMAGE_PROJECT}. */
export function projectFiles(projectRoot: string): ImageFile[] {
  const file = (source: string, rel: string): ImageFile => ({ path: `${IMAGE_PROJECT}/${rel}`, source, mode: statSync(source).mode & 0o777 });
  const under = (rel: string, skip: (r: string) => boolean = () => false): ImageFile[] => {
    const dir = join(projectRoot, rel);
    return walk(dir, skip).map((f) => file(f, join(rel, relative(dir, f))));
  };
  const files = [file(join(projectRoot, 'package.json'), 'package.json'), ...under('bin'), ...under('dist', (r) => r === 'test' || r.endsWith('.tsbuildinfo'))];
  const modules = join(projectRoot, 'node_modules');
  if (!existsSync(modules)) throw new Error(`the remote image needs the project's node_modules, and ${modules} does not exist: run npm ci`);
  const packages = productionPackages(projectRoot);
  // Nested node_modules are entries of the lock of their own; `.bin` holds links only.
  const skipNested = (r: string): boolean => basename(r) === 'node_modules' || basename(r) === '.bin';
  if (packages === null) files.push(...under('node_modules', (r) => basename(r) === '.bin'));
  else for (const p of packages) files.push(...walk(join(projectRoot, p), skipNested).map((f) => file(f, join(p, relative(join(projectRoot, p), f)))));
  return files;
}

/** `iptables` and `iptables-restore` (the binary the `iptables` on PATH resolves to), its libraries and the xtables modules with theirs. */
export async function iptablesFiles(env: NodeJS.ProcessEnv = process.env): Promise<ImageFile[]> {
  const found = [...(env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin'].map((d) => join(d, 'iptables')).find((p) => existsSync(p));
  if (found === undefined) throw new Error('the remote image needs iptables from this machine, and none is installed (Debian: apt-get install iptables)');
  const binary = realpathSync(found);
  const xtables = XTABLES_DIRS.find((d) => existsSync(d));
  if (xtables === undefined) throw new Error(`the remote image needs iptables' extension modules, and none of ${XTABLES_DIRS.join(', ')} exists`);
  const modules = readdirSync(xtables).filter((f) => f.endsWith('.so')).map((f) => join(xtables, f)).sort();
  const libs = new Set(await sharedLibraries(binary));
  for (const list of await Promise.all(modules.map((m) => sharedLibraries(m)))) for (const l of list) libs.add(l);
  return [
    // Protocol names (`-p tcp`), where this machine has them.
    ...(existsSync('/etc/protocols') ? [{ path: '/etc/protocols', source: '/etc/protocols', mode: 0o644 }] : []),
    { path: IMAGE_IPTABLES, source: binary, mode: 0o755 },
    { path: IMAGE_IPTABLES_RESTORE, source: binary, mode: 0o755 },
    ...modules.map((m) => ({ path: m, source: m, mode: 0o644 })),
    ...[...libs].sort().map((l) => ({ path: l, source: l, mode: 0o755, lib: true })),
  ];
}

/** The remote mode's image: Node.js, iptables and the project at `projectRoot`, each file once. */
export async function remoteImageRecipe(projectRoot: string, node: string = process.execPath): Promise<ImageRecipe> {
  const byPath = new Map<string, ImageFile>();
  for (const f of [...(await imageFiles(node)), ...(await iptablesFiles()), ...projectFiles(projectRoot)]) if (!byPath.has(f.path)) byPath.set(f.path, f);
  // /run for the xtables lock; /data where the volumes of the data dirs are mounted.
  return { recipe: RECIPE, files: [...byPath.values()], dirs: ['/run', '/data'] };
}

/** `bin/dsync.js` in the remote image. */
export const IMAGE_DSYNC_BIN = `${IMAGE_PROJECT}/bin/dsync.js`;
