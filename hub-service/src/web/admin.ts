import express from 'express';
import type { createHubAuth } from '../auth/oauth.js';
import type { WodConfig } from '../config/schema.js';
import type { HubClient } from '../hub/client.js';
import { VERSION } from '../version.js';

type HubAuth = ReturnType<typeof createHubAuth>;

/** The admin panel, behind hub OAuth: hub admins and holders of custom:wod:admin only. */
export function adminRouter(deps: { auth: HubAuth; config: WodConfig; hubProbe: HubClient }): express.Router {
  const router = express.Router();
  router.use(deps.auth.requireUser, deps.auth.requireWodAdmin, deps.auth.requireCsrf);

  router.get('/', async (req, res) => {
    const hubVersion = await deps.hubProbe.info().then((i) => i.version, () => null);
    res.render('admin/index', {
      title: 'wod admin',
      visitor: req.visitor,
      csrfToken: req.csrfToken,
      facts: {
        'wod version': VERSION,
        'JupyterHub version': hubVersion ?? 'not answering',
        'student mode': deps.config.students.mode,
        'student homes': deps.config.students.homeRoot,
        'public URL': deps.config.publicUrl,
      },
    });
  });

  router.post('/logout', deps.auth.logout);
  return router;
}
