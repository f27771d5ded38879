import { z } from 'zod';

/**
 * The one wod configuration. Every key is documented in `wod.example.yaml`; every key can be
 * overridden from the environment as WOD_ + its path in upper snake case (`hub.apiPort` →
 * `WOD_HUB_API_PORT`), lists as comma-separated values.
 */
const port = z.coerce.number().int().min(1).max(65535);
/** Hub user names wod creates or accepts for accounts. */
export const USER_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
const names = z.array(z.string().regex(USER_NAME, 'a user name: lower-case letters, digits, . _ -')).default([]);

export const configSchema = z
  .object({
    port: port.default(8000),
    bindIp: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('./var'),
    publicUrl: z.url().optional(),
    hub: z
      .object({
        apiPort: port.default(8081),
        proxyApiPort: port.default(8001),
      })
      .strict()
      .prefault({}),
    service: z
      .object({
        port: port.default(10101),
      })
      .strict()
      .prefault({}),
    students: z
      .object({
        mode: z.enum(['local', 'system-users']).default('local'),
        homeRoot: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    accounts: z
      .object({
        admins: names.default(['admin']),
        wodAdmins: names,
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The resolved configuration: every path absolute, every default filled in. */
export interface WodConfig extends Parsed {
  /** The checkout wod runs from (holds `.venv`, `node_modules`, `workshops/`). */
  projectRoot: string;
  /** The YAML file read, if any. */
  configFile: string | null;
  publicUrl: string;
  students: Parsed['students'] & { homeRoot: string };
}
