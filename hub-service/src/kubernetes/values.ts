/**
 * The Helm values that make a Zero to JupyterHub hub (chart 4.x) run wod's students, derived from
 * wod's configuration (students.mode remote). Pure: `wod kubernetes values` reads the inputs
 * (kubernetes/inputs.ts) and prints what this returns.
 *
 * wod runs beside the chart as an external service (its own Deployment: deploy/kubernetes/wod-service.yaml)
 * that the hub proxies at /services/wod/. The hub gets wod's Python pieces as files (`hub.extraFiles`,
 * no image of its own) and `hub.extraConfig` calls spawner-config/wod_kubernetes.py with `custom.wod`:
 * the KubeSpawner settings below, applied after the chart's, and the hook that gives each pod its
 * workshop's limits.
 */
import type { WodConfig } from '../config/schema.js';
import { SERVICE_NAME, SERVICE_PREFIX } from '../config/urls.js';
import { effectiveLimits } from '../isolation/limit-rules.js';

/** Where the hub pod finds wod's Python files (hub.extraFiles) and the secret it shares with the service. */
export const HUB_WOD_DIR = '/usr/local/etc/jupyterhub/wod';
export const HUB_SECRET_DIR = '/usr/local/etc/jupyterhub/wod-secret';
/** The k8s Secret holding the shared secret of the shim and the service (key auth-secret), made by the operator (GUIDE.md). */
export const AUTH_SECRET = 'wod-auth';
/** The k8s Service in front of the wod pod (deploy/kubernetes/wod-service.yaml). */
export const SERVICE_HOST = 'wod';
/** The student image's account and home (deploy/kubernetes/Dockerfile.student). */
export const STUDENT_UID = 1000;
export const STUDENT_GID = 100;
export const STUDENT_HOME = '/home/jovyan';
/** Empty folders of the student image, root's: a maintenance server's Jupyter config and data (wod_spawner.maintenance_variables). */
export const MAINTENANCE_DIR = '/opt/wod/maintenance';
/** The Python files the hub imports, from spawner-config/. */
export const HUB_FILES = ['wod_kubernetes.py', 'wod_authenticator.py', 'wod_logging.py', 'wod_spawner.py'] as const;

export interface ValuesInputs {
  /** the student image, name:tag */
  studentImage: string;
  /** each home's volume claim, as Kubernetes writes sizes (10Gi) */
  homeSize: string;
  /** the cluster's storage class for the homes; unset: its default */
  storageClass?: string;
  /** the wod service role's scopes (spawner-config/wod_service_scopes.json, as jupyterhub_config.py grants) */
  serviceScopes: string[];
  /** the content of each of HUB_FILES */
  hubFiles: Record<(typeof HUB_FILES)[number], string>;
}

/** What of wod's configuration the values depend on. */
export interface ValuesConfig {
  students: Pick<WodConfig['students'], 'limits'>;
  service: Pick<WodConfig['service'], 'port'>;
  accounts: WodConfig['accounts'];
  lifecycle: Pick<WodConfig['lifecycle'], 'serverTimeout'>;
}

/** `registry/name:tag` → name and tag (a port in the registry is not a tag). */
export function splitImage(image: string): { name: string; tag: string } {
  const at = image.lastIndexOf(':');
  if (at <= image.lastIndexOf('/')) return { name: image, tag: 'latest' };
  return { name: image.slice(0, at), tag: image.slice(at + 1) };
}

/** What wod_kubernetes.configure sets on KubeSpawner (trait → value), the site's limits as defaults. */
export function kubeSpawnerSettings(config: ValuesConfig, inputs: Pick<ValuesInputs, 'studentImage' | 'homeSize' | 'storageClass'>): Record<string, unknown> {
  // the site's as a seat of no workshop gets them (kubernetes/seat-limits.ts): capped by the max* keys
  const site = effectiveLimits(config.students.limits, null);
  return {
    image: inputs.studentImage,
    cmd: ['jupyterhub-singleuser'],
    default_url: '/lab',
    uid: STUDENT_UID,
    fs_gid: STUDENT_GID,
    working_dir: STUDENT_HOME,
    // pulling the image onto a new node can take longer than a server's start
    start_timeout: Math.max(120, config.lifecycle.serverTimeout),
    // the site's: each spawn sets the seat's (seat_hook); a pod with no requests is given them equal to its limits
    mem_limit: site.memoryBytes,
    cpu_limit: site.cpu,
    mem_guarantee: null,
    cpu_guarantee: null,
    // the home: a volume claim per student, made at the first spawn and kept (wod empties it through the server)
    storage_pvc_ensure: true,
    storage_capacity: inputs.homeSize,
    ...(inputs.storageClass ? { storage_class: inputs.storageClass } : {}),
    volumes: { home: { name: 'home', persistentVolumeClaim: { claimName: '{pvc_name}' } } },
    volume_mounts: { home: { name: 'home', mountPath: STUDENT_HOME } },
  };
}

/** The extraConfig entry: wod's Python files on the path, then wod_kubernetes.configure with custom.wod. */
const EXTRA_CONFIG = [
  '# wod: logins through its shim, the students as KubeSpawner pods with their workshop limits (spawner-config/wod_kubernetes.py)',
  'import sys',
  `sys.path.insert(0, ${JSON.stringify(HUB_WOD_DIR)})`,
  'import wod_kubernetes',
  'from z2jh import get_config',
  'wod_kubernetes.configure(c, get_config("custom.wod"))',
  '',
].join('\n');

export function helmValues(config: ValuesConfig, inputs: ValuesInputs) {
  const serviceRoot = `http://${SERVICE_HOST}:${config.service.port}`;
  const access = `access:services!service=${SERVICE_NAME}`;
  const admins = [...new Set([...config.accounts.admins, ...config.accounts.wodAdmins])].sort();
  return {
    hub: {
      services: {
        [SERVICE_NAME]: {
          // external: no command; its apiToken is generated by the chart into the Secret `hub`
          // (key hub.services.wod.apiToken), which the wod pod reads as JUPYTERHUB_API_TOKEN
          url: serviceRoot,
          oauth_no_confirm: true,
          oauth_client_allowed_scopes: ['custom:wod:admin'],
          display: true,
          info: { description: 'Workshops-on-Demand: catalog, registrations and admin panel' },
        },
      },
      // as spawner-config/jupyterhub_config.py: the service's scopes, every user's access to it, wod's admins
      loadRoles: {
        'wod-service': { description: "What the wod service needs to run students' accounts and servers", scopes: inputs.serviceScopes, services: [SERVICE_NAME] },
        user: { scopes: ['self', access] },
        'wod-admin': {
          description: 'Runs wod: the admin panel and the admin REST API',
          scopes: ['custom:wod:admin', access],
          users: admins,
          groups: ['wod-admins'],
        },
      },
      config: {
        JupyterHub: {
          // the chart's default is dummy; wod_kubernetes.configure sets the same
          authenticator_class: 'wod_authenticator.WodAuthenticator',
          custom_scopes: { 'custom:wod:admin': { description: 'Run wod: workshops, registrations, the student pool, jobs and mail.' } },
        },
      },
      extraFiles: Object.fromEntries(
        HUB_FILES.map((file) => [file.replace(/\.py$/, '').replace(/_/g, '-'), { mountPath: `${HUB_WOD_DIR}/${file}`, stringData: inputs.hubFiles[file] }]),
      ),
      // the shim's secret: readable by the hub's group (the pod's fsGroup), no one else
      extraVolumes: [{ name: AUTH_SECRET, secret: { secretName: AUTH_SECRET, defaultMode: 0o440 } }],
      extraVolumeMounts: [{ name: AUTH_SECRET, mountPath: HUB_SECRET_DIR, readOnly: true }],
      extraConfig: { wod: EXTRA_CONFIG },
    },
    custom: {
      wod: {
        serviceName: SERVICE_NAME,
        servicePrefix: SERVICE_PREFIX,
        // reached directly, not through the proxy: the internal routes refuse what the proxy forwards
        serviceUrl: `${serviceRoot}${SERVICE_PREFIX}`.replace(/\/$/, ''),
        secretFile: `${HUB_SECRET_DIR}/auth-secret`,
        admins: config.accounts.admins,
        maintenanceDir: MAINTENANCE_DIR,
        kubespawner: kubeSpawnerSettings(config, inputs),
      },
    },
    singleuser: {
      // for the chart's image puller; the pods' image is custom.wod.kubespawner's (the same)
      image: splitImage(inputs.studentImage),
      // the homes are wod's settings (custom.wod.kubespawner): none of the chart's own
      storage: { type: 'none' },
    },
    // every node pulls the student image before a seat needs it (a warm seat's start is not the moment)
    prePuller: { hook: { enabled: true }, continuous: { enabled: true } },
    // wod owns the clock: it stops servers at the deadline, and a warm seat is idle by design
    cull: { enabled: false },
    // placeholders hold room for pods, not prepared seats: wod's warm seats are running pods already
    scheduling: { userPlaceholder: { enabled: false } },
  };
}

export type HelmValues = ReturnType<typeof helmValues>;
