import express from 'express';
import { VERSION } from '../version.js';
import type { WebDeps } from './deps.js';

/** The admin panel, behind hub OAuth: hub admins and holders of custom:wod:admin only. */
export function adminRouter(deps: WebDeps): express.Router {
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
