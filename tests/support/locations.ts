/**
 * Three real wods on this machine, as locations: a portal and two backends (`lyon`, `paris`),
 * each a JupyterHub with the wod service, sharing one workshops folder, their tokens issued and
 * accepted through `wod locations` as an operator would. Used by the locations tests and bench.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type HubOptions, type RunningHub, startHub } from './hub';
import { freePorts } from './ports';

export const BACKENDS = ['lyon', 'paris'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface Locations {
  portal: RunningHub;
  backends: Record<BackendName, RunningHub>;
  /** starts a backend again on its data folder and port (after `stop()`), its tokens kept */
  restart: (name: BackendName) => Promise<RunningHub>;
  stop: () => Promise<void>;
}

const peers = (list: { name: string; port: number }[]) => JSON.stringify(list.map((p) => ({ name: p.name, url: `http://127.0.0.1:${p.port}` })));

/** Gives `from` a token issued by `to` for it. */
async function exchange(issuer: RunningHub, holder: RunningHub, holderName: string, issuerName: string): Promise<void> {
  const token = (await issuer.cli('locations', 'issue', holderName)).trim();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wod-token-')), 'token');
  fs.writeFileSync(file, token, { mode: 0o600 });
  await holder.cli('locations', 'accept', issuerName, '--token-file', file);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

export async function startLocations(workshops: string, opts: { env?: Record<string, string>; portalEnv?: Record<string, string> } = {}): Promise<Locations> {
  const [portalPort, lyonPort, parisPort] = await freePorts(3);
  const ports: Record<BackendName, number> = { lyon: lyonPort, paris: parisPort };
  const common = { WOD_WORKSHOPS_DIR: workshops, WOD_REGISTRATION_PER_EMAIL_PER_HOUR: '1000', WOD_REGISTRATION_PER_IP_PER_MINUTE: '1000', ...opts.env };
  const backendOptions = (name: BackendName, dataDir?: string): HubOptions => ({
    dataDir,
    env: {
      ...common,
      WOD_PORT: String(ports[name]),
      WOD_LOCATIONS_NAME: name,
      WOD_LOCATIONS_PORTALS: peers([{ name: 'portal', port: portalPort }]),
    },
  });
  const dataDirs: Record<BackendName, string> = {
    lyon: fs.mkdtempSync(path.join(os.tmpdir(), 'wod-test-lyon-')),
    paris: fs.mkdtempSync(path.join(os.tmpdir(), 'wod-test-paris-')),
  };
  const [portal, lyon, paris] = await Promise.all([
    startHub({
      env: {
        ...common,
        WOD_PORT: String(portalPort),
        WOD_LOCATIONS_NAME: 'portal',
        WOD_LOCATIONS_BACKENDS: peers(BACKENDS.map((name) => ({ name, port: ports[name] }))),
        WOD_LOCATIONS_POLL_SECONDS: '1',
        ...opts.portalEnv,
      },
    }),
    startHub(backendOptions('lyon', dataDirs.lyon)),
    startHub(backendOptions('paris', dataDirs.paris)),
  ]);
  const backends: Record<BackendName, RunningHub> = { lyon, paris };
  for (const name of BACKENDS) {
    await exchange(backends[name], portal, 'portal', name);
    await exchange(portal, backends[name], name, 'portal');
  }
  return {
    portal,
    backends,
    restart: async (name) => (backends[name] = await startHub(backendOptions(name, dataDirs[name]))),
    stop: async () => {
      await Promise.all([portal.stop(), ...BACKENDS.map((n) => backends[n].stop())]);
      if (!process.env.WOD_KEEP_TEST_DATA) for (const d of Object.values(dataDirs)) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}
