/**
 * Which kernels the students' JupyterLab can start, and which notebooks ask for one it cannot.
 *
 * jupyter_client looks for kernelspecs in `jupyter_path('kernels')`: $JUPYTER_PATH, the user's
 * data dir (~/.local/share/jupyter), the environment's `<sys.prefix>/share/jupyter`, then the
 * system's /usr/local/share/jupyter and /usr/share/jupyter; a kernelspec is a folder holding a
 * kernel.json, named case-insensitively; python3 is there too whenever ipykernel is importable
 * (`ensure_native_kernel`). wod sets no JUPYTER_PATH for students, and a kernel in one account's
 * ~/.local is not every student's: what counts is the .venv (scripts/setup may make it a symbolic
 * link to a shared one) and the system folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../catalog/problems.js';

export interface Kernel {
  /** the kernelspec's name, lower-case as jupyter_client lists them (`python3`, `bash`) */
  name: string;
  displayName: string;
  language: string | null;
  /** its folder (for python3 without one: the ipykernel package) */
  dir: string;
}

/** The system-wide kernel folders of jupyter_core on Linux (SYSTEM_JUPYTER_PATH). */
export const SYSTEM_KERNEL_DIRS = ['/usr/local/share/jupyter/kernels', '/usr/share/jupyter/kernels'];

/** The kernel folders the students' JupyterLab searches, in jupyter_client's order (first wins). */
export function kernelDirs(projectRoot: string, systemDirs = SYSTEM_KERNEL_DIRS): string[] {
  const venv = path.join(projectRoot, '.venv');
  let real = venv;
  try {
    real = fs.realpathSync(venv);
  } catch {
    // no .venv yet: nothing is found in it
  }
  return [path.join(real, 'share', 'jupyter', 'kernels'), ...systemDirs];
}

function readSpec(dir: string, name: string): Kernel | null {
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'kernel.json'), 'utf8')) as { display_name?: unknown; language?: unknown };
    return { name, displayName: typeof spec.display_name === 'string' ? spec.display_name : name, language: typeof spec.language === 'string' ? spec.language : null, dir };
  } catch {
    // jupyter_client lists a folder with a kernel.json it cannot read, then fails to start it: so do we not count it
    return null;
  }
}

/** ipykernel installed in the .venv: jupyter_client then offers python3 even without a kernelspec folder. */
function nativePython(projectRoot: string): Kernel | null {
  const lib = path.join(projectRoot, '.venv', 'lib');
  let versions: string[];
  try {
    versions = fs.readdirSync(lib).filter((d) => /^python3\.\d+$/.test(d));
  } catch {
    return null;
  }
  for (const v of versions) {
    const pkg = path.join(lib, v, 'site-packages', 'ipykernel');
    if (fs.existsSync(path.join(pkg, '__init__.py'))) return { name: 'python3', displayName: 'Python 3 (ipykernel)', language: 'python', dir: pkg };
  }
  return null;
}

/** The kernelspecs students can start, by name (the first folder holding a name wins, as in jupyter_client). */
export function availableKernels(projectRoot: string, systemDirs = SYSTEM_KERNEL_DIRS): Kernel[] {
  const found = new Map<string, Kernel>();
  for (const dir of kernelDirs(projectRoot, systemDirs)) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
      const name = entry.toLowerCase();
      if (found.has(name) || !fs.existsSync(path.join(dir, entry, 'kernel.json'))) continue;
      const spec = readSpec(path.join(dir, entry), name);
      if (spec) found.set(name, spec);
    }
  }
  if (!found.has('python3')) {
    const native = nativePython(projectRoot);
    if (native) found.set('python3', native);
  }
  return [...found.values()];
}

/**
 * How to install the kernels the original's workshops used (inventory 8.1), where every student's
 * JupyterLab finds them: into the .venv (`--sys-prefix`), or the system folder for kernels that are
 * not Python packages. Run from the wod checkout, as root in system-users mode.
 */
export const KERNEL_INSTALL: Record<string, string> = {
  python3: '.venv/bin/pip install ipykernel && .venv/bin/python -m ipykernel install --sys-prefix',
  bash: '.venv/bin/pip install bash_kernel && .venv/bin/python -m bash_kernel.install --sys-prefix',
  ssh: '.venv/bin/pip install sshkernel && .venv/bin/python -m sshkernel install --sys-prefix',
  rust: 'cargo install --locked --root /usr/local evcxr_jupyter && evcxr_jupyter --install && .venv/bin/jupyter kernelspec install --sys-prefix ~/.local/share/jupyter/kernels/rust',
  gophernotes:
    'GOBIN=/usr/local/bin go install github.com/gopherdata/gophernotes@v0.7.5 && mkdir -p .venv/share/jupyter/kernels/gophernotes && cp "$(go env GOMODCACHE)"/github.com/gopherdata/gophernotes@v0.7.5/kernel/* .venv/share/jupyter/kernels/gophernotes/',
  '.net-csharp': 'dotnet tool install --tool-path /usr/local/bin Microsoft.dotnet-interactive && dotnet-interactive jupyter install --path .venv/share/jupyter/kernels',
  '.net-fsharp': 'dotnet tool install --tool-path /usr/local/bin Microsoft.dotnet-interactive && dotnet-interactive jupyter install --path .venv/share/jupyter/kernels',
  '.net-powershell': 'dotnet tool install --tool-path /usr/local/bin Microsoft.dotnet-interactive && dotnet-interactive jupyter install --path .venv/share/jupyter/kernels',
  powershell: '.venv/bin/pip install powershell_kernel && .venv/bin/python -m powershell_kernel.install --sys-prefix (needs pwsh on the PATH)',
  java: 'unzip the IJava release (github.com/SpencerPark/IJava) and run .venv/bin/python install.py --sys-prefix in it (needs a JDK 9 or later)',
  ansible: '.venv/bin/pip install ansible-kernel && .venv/bin/python -m ansible_kernel.install --sys-prefix',
};

const GENERIC_INSTALL =
  "install the kernel into the students' environment (for a Python package: .venv/bin/pip install <package>, then its installer with --sys-prefix; otherwise put its kernelspec folder in .venv/share/jupyter/kernels), then check with .venv/bin/jupyter kernelspec list";

/** The kernelspec a notebook asks for; null when the text is not a notebook's JSON (checkNotebook says so). */
function kernelOf(text: string): { name: string | null; displayName: string | null } | null {
  try {
    const nb = JSON.parse(text) as { metadata?: { kernelspec?: { name?: unknown; display_name?: unknown } } };
    const spec = nb?.metadata?.kernelspec;
    return { name: typeof spec?.name === 'string' ? spec.name : null, displayName: typeof spec?.display_name === 'string' ? spec.display_name : null };
  } catch {
    return null;
  }
}

/**
 * A notebook whose kernel students cannot start is an error (JupyterLab would open it on "No
 * Kernel" and its cells would not run); one that names no kernel is a warning (JupyterLab asks).
 */
export function checkKernels(notebooks: { file: string; text: string }[], available: Kernel[]): Problem[] {
  const names = new Set(available.map((k) => k.name.toLowerCase()));
  const list = available.length ? available.map((k) => k.name).join(', ') : 'none';
  const problems: Problem[] = [];
  for (const { file, text } of notebooks) {
    const kernel = kernelOf(text);
    if (!kernel) continue;
    if (!kernel.name) {
      problems.push({
        severity: 'warning',
        file,
        field: 'metadata.kernelspec',
        message: 'names no kernel: JupyterLab will ask students which one to start',
        fix: 'open it in JupyterLab, choose the kernel (Kernel > Change Kernel) and save',
      });
      continue;
    }
    if (names.has(kernel.name.toLowerCase())) continue;
    const install = KERNEL_INSTALL[kernel.name.toLowerCase()];
    problems.push({
      severity: 'error',
      file,
      field: 'metadata.kernelspec.name',
      message: `asks for the kernel "${kernel.name}"${kernel.displayName ? ` (${kernel.displayName})` : ''}, which students' JupyterLab does not have (it has: ${list})`,
      fix: install ?? GENERIC_INSTALL,
    });
  }
  return problems;
}
