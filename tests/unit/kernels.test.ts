import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableKernels, checkKernels, KERNEL_INSTALL, kernelDirs, type Kernel } from '../../hub-service/src/content/kernels';

const ROOT = path.resolve(__dirname, '..', '..');
let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-kernels-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function kernelDir(kernels: string, name: string, spec: unknown = { argv: ['x'], display_name: `${name} kernel`, language: name }) {
  fs.mkdirSync(path.join(kernels, name), { recursive: true });
  fs.writeFileSync(path.join(kernels, name, 'kernel.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
}
const nb = (name?: string) => JSON.stringify({ cells: [], metadata: name ? { kernelspec: { name, display_name: name } } : {}, nbformat: 4, nbformat_minor: 5 });
const k = (name: string): Kernel => ({ name, displayName: name, language: null, dir: '/x' });

describe('availableKernels', () => {
  test('kernelspecs of the .venv (through its symbolic link) and of the system folders, first one of a name wins', () => {
    const shared = path.join(tmp, 'shared-venv');
    const project = path.join(tmp, 'wod');
    fs.mkdirSync(project);
    fs.symlinkSync(shared, path.join(project, '.venv'));
    kernelDir(path.join(shared, 'share', 'jupyter', 'kernels'), 'bash');
    kernelDir(path.join(shared, 'share', 'jupyter', 'kernels'), 'Rust', { display_name: 'Rust', language: 'rust' });
    const system = path.join(tmp, 'usr-local');
    kernelDir(system, 'bash', { display_name: 'Another bash' });
    kernelDir(system, 'gophernotes', { display_name: 'Go', language: 'go' });
    kernelDir(system, 'broken', '{ not json');
    fs.mkdirSync(path.join(system, 'not-a-kernel'));

    expect(kernelDirs(project, [system])).toEqual([path.join(fs.realpathSync(shared), 'share', 'jupyter', 'kernels'), system]);
    const found = availableKernels(project, [system, path.join(tmp, 'missing')]);
    expect(found.map((x) => [x.name, x.displayName, x.language])).toEqual([
      ['bash', 'bash kernel', 'bash'],
      ['rust', 'Rust', 'rust'],
      ['gophernotes', 'Go', 'go'],
    ]);
  });

  test('python3 comes with ipykernel even without a kernelspec folder, as jupyter_client adds it', () => {
    const pkg = path.join(tmp, '.venv', 'lib', 'python3.11', 'site-packages', 'ipykernel');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, '__init__.py'), '');
    expect(availableKernels(tmp, []).map((x) => x.name)).toEqual(['python3']);
    expect(availableKernels(path.join(tmp, 'nothing-here'), [])).toEqual([]);
  });

  test('the real students’ environment has python3 and bash', () => {
    const names = availableKernels(ROOT).map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['python3', 'bash']));
  });
});

describe('checkKernels', () => {
  test('a kernel students have is no problem, whatever its case', () => {
    expect(
      checkKernels(
        [
          { file: 'a.ipynb', text: nb('python3') },
          { file: 'b.ipynb', text: nb('Bash') },
        ],
        [k('python3'), k('bash')],
      ),
    ).toEqual([]);
  });

  test('a missing kernel is an error naming it, what there is, and a concrete install command for the original’s kernels', () => {
    const known = ['bash', 'ssh', 'rust', 'gophernotes', '.net-csharp', '.net-powershell', 'powershell', 'java', 'ansible'];
    const problems = checkKernels(
      known.map((name) => ({ file: `${name}.ipynb`, text: nb(name) })),
      [k('python3')],
    );
    expect(problems).toHaveLength(known.length);
    for (const [i, name] of known.entries()) {
      expect(problems[i]).toMatchObject({
        severity: 'error',
        file: `${name}.ipynb`,
        field: 'metadata.kernelspec.name',
        message: expect.stringContaining(`"${name}"`),
        fix: KERNEL_INSTALL[name],
      });
      expect(problems[i].message).toContain('(it has: python3)');
    }
    expect(problems[0].fix).toBe('.venv/bin/pip install bash_kernel && .venv/bin/python -m bash_kernel.install --sys-prefix');
    expect(problems.find((p) => p.file === 'rust.ipynb')!.fix).toContain('evcxr_jupyter');
    expect(problems.find((p) => p.file === 'ssh.ipynb')!.fix).toContain('sshkernel');
  });

  test('an unknown kernel gets the generic hint; no kernelspec is a warning; what is not JSON is left to checkNotebook', () => {
    const problems = checkKernels(
      [
        { file: 'julia.ipynb', text: nb('julia-1.10') },
        { file: 'none.ipynb', text: nb() },
        { file: 'template.ipynb', text: '{ "cells": [ {% if X %} ] }' },
      ],
      [],
    );
    expect(problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'julia.ipynb',
        message: expect.stringContaining('(it has: none)'),
        fix: expect.stringContaining('jupyter kernelspec list'),
      }),
      expect.objectContaining({ severity: 'warning', file: 'none.ipynb', field: 'metadata.kernelspec' }),
    ]);
  });
});
