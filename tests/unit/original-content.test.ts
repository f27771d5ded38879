/**
 * The original backend's content contract, piece by piece: the overlay rule and the templated set
 * (catalog/folders.ts), the site's variables and their order (content/site-variables.ts), every
 * undefined variable at once (content/templating.ts renderAll), and `.sh.j2` hooks rendered before
 * they run (lifecycle/hooks.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkSiteVariables } from '../../hub-service/src/catalog/dry-run';
import { contentFiles, isRendered, workshopFolders } from '../../hub-service/src/catalog/folders';
import { formatProblem } from '../../hub-service/src/catalog/problems';
import { asEnvironment, deploymentFiles, passFile, readVariablesFile, resolveVariables, siteFiles, vaultPassword } from '../../hub-service/src/content/site-variables';
import { renderAll } from '../../hub-service/src/content/templating';
import { findHooks, runHook } from '../../hub-service/src/lifecycle/hooks';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wod-orig-'));
const write = (file: string, text: string, mode?: number) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, mode ? { mode } : undefined);
};

describe('the overlay rule and the templated set', () => {
  test("the original's two find patterns: public and private folders render different sets; checkpoints never", () => {
    const rendered = (source: 'public' | 'overlay') =>
      ['a.ipynb', 'b.yaml', 'c.py', 'd.sh', 'e.src', 'f.tf', 'g.env', 'Variables.ps1', 'h.yml', 'i.md', 'j.txt', 'k.ps1'].filter((n) => isRendered(n, source));
    expect(rendered('public')).toEqual(['a.ipynb', 'b.yaml', 'c.py', 'd.sh', 'e.src', 'f.tf', 'g.env', 'Variables.ps1']);
    expect(rendered('overlay')).toEqual(['a.ipynb', 'b.yaml', 'c.py', 'd.sh', 'e.src', 'Variables.ps1']);
  });

  test('a private folder is content only where no public one exists; its wod.yml and vars.yml come after the public ones', () => {
    const pub = tmp();
    const priv = tmp();
    write(path.join(pub, 'WKSHP-A', 'wod.yml'), 'name: A\n');
    write(path.join(pub, 'WKSHP-A', 'vars.yml'), 'X: 1\n');
    write(path.join(priv, 'WKSHP-A', 'wod.yml'), 'active: true\n');
    write(path.join(priv, 'WKSHP-A', 'vars.yml'), 'X: 2\n');
    write(path.join(priv, 'WKSHP-A', 'extra.ipynb'), '{}');
    write(path.join(priv, 'WKSHP-B', 'wod.yml'), 'name: B\n');
    write(path.join(pub, 'WKSHP-C', 'notes.md'), 'no wod.yml: not a workshop\n');
    const roots = { dir: pub, overlayDir: priv };
    expect(workshopFolders(roots, 'WKSHP-A')).toEqual({
      folder: 'WKSHP-A',
      content: path.join(pub, 'WKSHP-A'),
      source: 'public',
      specs: [path.join(pub, 'WKSHP-A', 'wod.yml'), path.join(priv, 'WKSHP-A', 'wod.yml')],
      vars: [path.join(pub, 'WKSHP-A', 'vars.yml'), path.join(priv, 'WKSHP-A', 'vars.yml')],
    });
    expect(workshopFolders(roots, 'WKSHP-B')).toMatchObject({ content: path.join(priv, 'WKSHP-B'), source: 'overlay' });
    expect(workshopFolders(roots, 'WKSHP-C')).toBeNull();
    // the private folder's other files are not mixed into a public workshop
    expect(contentFiles(workshopFolders(roots, 'WKSHP-A')!).files.map((f) => f.rel)).toEqual([]);
  });

  test("wod's own files and checkpoints are not content", () => {
    const dir = tmp();
    for (const f of ['wod.yml', 'vars.yml', 'create', '0-ReadMeFirst.ipynb', 'x-checkpoint.ipynb', '.ipynb_checkpoints/y.ipynb', 'sub/create', 'sub/run.sh'])
      write(path.join(dir, f), '');
    expect(contentFiles({ content: dir, source: 'public' }).files.map((f) => [f.rel, f.rendered])).toEqual([
      ['0-ReadMeFirst.ipynb', true],
      ['sub/create', false],
      ['sub/run.sh', true],
    ]);
  });
});

describe('site variables', () => {
  const setup = () => {
    const root = tmp();
    const config = { dataDir: path.join(root, 'data'), workshops: { variablesDir: path.join(root, 'ansible'), group: 'production' } } as never;
    return { root, config, dir: path.join(root, 'ansible') };
  };
  const student = { STDID: 4, STUDENT: 'student4', WORKSHOP: 'WKSHP-X', CHALLENGE: 'WKSHP-X', MODEWS: 'WKSHP' };

  test("the original's order: backend, /etc/wod.yml, group_vars, variables_<W>, vars.yml, the student's pass file, hooks, the student's own values", () => {
    const { root, config, dir } = setup();
    const layers = ['wod.yml', 'group_vars/all.yml', 'group_vars/production', 'production/variables_WKSHP-X.yml', '../vars.yml'];
    layers.forEach((f, i) => write(path.join(dir, f), `LEVEL: ${i + 1}\nFROM_${i + 1}: yes\n`));
    write(passFile(config, 'WKSHP-X', 4), 'LEVEL: 6\nHTTPPORT: 8004\n');
    const files = deploymentFiles(config, [path.join(root, 'vars.yml')], { workshop: 'WKSHP-X', challenge: 'WKSHP-X' }, 4);
    expect(files.slice(0, siteFiles(config).length)).toEqual(siteFiles(config));
    const vars = resolveVariables({ backend: { LEVEL: 0, STDID: 'not this' }, files, student });
    expect([vars.LEVEL, vars.FROM_1, vars.FROM_5, vars.HTTPPORT, vars.STDID]).toEqual([6, true, true, 8004, 4]);
    expect(resolveVariables({ backend: {}, files, fromHooks: { LEVEL: 7 }, student }).LEVEL).toBe(7);
  });

  test('values that refer to others are rendered, as Ansible does; hostvars[inventory_hostname] sees every value', () => {
    const vars = resolveVariables({
      backend: { WODBEFQDN: 'be.example.org', 'IP-WKSHP-X': '10.0.0.1' },
      files: [],
      fromHooks: { SURVEYCHALURL: 'https://{{ WODBEEXTFQDN }}/quiz', WODBEEXTFQDN: '{{ WODBEFQDN }}' },
      student,
    });
    expect(vars.SURVEYCHALURL).toBe('https://be.example.org/quiz');
    expect(vars.inventory_hostname).toBe('be.example.org');
    expect((vars.hostvars as Record<string, Record<string, unknown>>)['be.example.org']['IP-WKSHP-X']).toBe('10.0.0.1');
  });

  test("Ansible Vault, as made by ansible-vault 2.19 (the fixture's): a value and a whole file opened with the site's key, refused without it", () => {
    const vaulted = path.join(__dirname, '..', 'fixtures', 'wod-original', 'ansible-private');
    const key = () => 'wod-test-vault-password';
    expect(readVariablesFile(path.join(vaulted, 'production', 'variables_WKSHP-Docker101.yml'), key)).toEqual({ APPLIANCE_USER: 'docker' });
    expect(readVariablesFile(path.join(vaulted, 'group_vars', 'all.yml'), key)?.MLTOK).toBe('tok-{{ STDID }}-s3cr3t');
    const all = path.join(vaulted, 'group_vars', 'all.yml');
    expect(() => readVariablesFile(all)).toThrow(`${all}: a !vault value is encrypted with Ansible Vault and no vault password is given`);
    expect(() => readVariablesFile(all, () => 'wrong')).toThrow(`${all}: a !vault value: wrong vault password, or the vault text is damaged`);
    // the key file must be the operator's alone
    const { dir, config } = setup();
    write(path.join(dir, 'vault_secret'), 'k\n', 0o644);
    fs.chmodSync(path.join(dir, 'vault_secret'), 0o644);
    expect(() => vaultPassword(config)()).toThrow('the vault password must not be readable by other accounts (chmod 600 it)');
    fs.chmodSync(path.join(dir, 'vault_secret'), 0o600);
    expect(vaultPassword(config)()).toBe('k');
  });

  test('broken YAML or a list is refused with the file named; plain names only reach a shell', () => {
    const { dir } = setup();
    write(path.join(dir, 'b.yml'), 'A: [1\n');
    expect(() => readVariablesFile(path.join(dir, 'b.yml'))).toThrow(new RegExp(`^${path.join(dir, 'b.yml')}: `));
    write(path.join(dir, 'l.yml'), '- 1\n');
    expect(() => readVariablesFile(path.join(dir, 'l.yml'))).toThrow('must be a mapping of names to values');
    expect(readVariablesFile(path.join(dir, 'absent.yml'))).toBeNull();
    expect(asEnvironment({ A: 1, 'IP-WKSHP-X': '10.0.0.1', B: true, C: { x: 1 }, D: 'd' })).toEqual({ A: '1', B: 'true', D: 'd' });
  });
});

test('a site variables file any account can read is said, one reachable through closed folders is not', () => {
  const dir = tmp();
  write(path.join(dir, 'group_vars', 'all.yml'), 'TOKEN: x\n', 0o644);
  fs.chmodSync(path.join(dir, 'group_vars', 'all.yml'), 0o644);
  const config = { workshops: { variablesDir: dir } } as never;
  expect(checkSiteVariables(config)).toEqual([]); // mkdtemp made the folder 0700
  fs.chmodSync(dir, 0o755);
  expect(checkSiteVariables(config).map(formatProblem)).toEqual([
    `${path.join(dir, 'group_vars', 'all.yml')}: warning: is readable by every account on this host, participants included (fix: chmod o-rwx it (or its folder): site variables may hold secrets)`,
  ]);
});

describe('templates', () => {
  test('every undefined variable at once, each with its line, lookups named as written', () => {
    const text = "a {{ A }}\nb {{ B }} and {{ STDID }}\nc {{ hostvars[inventory_hostname]['IP-WKSHP-Y'] }}\n{{ A }}\n";
    const out = renderAll(text, { STDID: 3, inventory_hostname: 'h', hostvars: { h: {} } }, 'f.ipynb');
    // the text goes on to the notebook checks with each one marked
    expect(out.text).toBe("a <undefined A>\nb <undefined B> and 3\nc <undefined hostvars[inventory_hostname]['IP-WKSHP-Y']>\n<undefined A>\n");
    expect(out.errors.map((e) => e.message)).toEqual([
      'f.ipynb:1: undefined variable A',
      'f.ipynb:2: undefined variable B',
      "f.ipynb:3: undefined variable hostvars[inventory_hostname]['IP-WKSHP-Y']",
      'f.ipynb:4: undefined variable A',
    ]);
    expect(renderAll('ok {{ STDID }}\n', { STDID: 3 }, 'f')).toEqual({ text: 'ok 3\n', errors: [] });
  });
});

describe('hooks', () => {
  test("a <hook>-WKSHP-X.sh.j2 is rendered with the deployment's variables, run from a private folder, and removed", async () => {
    const scripts = tmp();
    const out = path.join(tmp(), 'out');
    write(path.join(scripts, 'create-WKSHP-X.sh.j2'), `#!/bin/sh\necho "{{ GREETING }} $stdid $(dirname "$0")" > ${out}\necho "HTTPPORT=80{{ STDID }}" >> "$WOD_VARS_FILE"\n`);
    write(path.join(scripts, 'cleanup-WKSHP-X.sh'), '#!/bin/sh\n', 0o755);
    const [hook] = findHooks('create', tmp(), 'CHLG-X', scripts);
    expect(hook).toEqual({ file: path.join(scripts, 'create-WKSHP-X.sh.j2'), template: true });
    expect(findHooks('cleanup', tmp(), 'WKSHP-X', scripts)).toEqual([{ file: path.join(scripts, 'cleanup-WKSHP-X.sh'), template: false }]);
    const result = await runHook(hook, { GREETING: 'hello', STDID: 4 }, { env: { stdid: '4' }, cwd: scripts, timeoutMs: 10_000 });
    expect(result.vars).toEqual({ HTTPPORT: '804' });
    const [greeting, stdid, ranFrom] = fs.readFileSync(out, 'utf8').trim().split(' ');
    expect([greeting, stdid]).toEqual(['hello', '4']);
    expect(ranFrom.startsWith(path.join(os.tmpdir(), 'wod-hook-'))).toBe(true);
    expect(fs.existsSync(ranFrom)).toBe(false);
  });
});
