#!/bin/sh
# The wod pod's command (deploy/kubernetes/wod-service.yaml): the secret shared with the hub's shim
# (the Secret wod-auth) placed where the service reads it, 0600; the data folder prepared (schema,
# secrets, admin accounts with the password WOD_ADMIN_PASSWORD of the Secret wod-env); then the
# service, with the JUPYTERHUB_* environment the hub gives a managed service on one host.
set -eu
umask 077
if [ -z "${WOD_ADMIN_PASSWORD:-}" ]; then
  # else a new admin's password would be generated and printed, into the pod's log
  echo "wod: WOD_ADMIN_PASSWORD is not set: put it in the Secret wod-env (deploy/kubernetes/GUIDE.md, 4)" >&2
  exit 1
fi
mkdir -p "$WOD_DATA_DIR/secrets"
install -m 600 /etc/wod/auth/auth-secret "$WOD_DATA_DIR/secrets/auth-secret"
# prepare prints each admin it creates with the password, the given one too: not into the log
node hub-service/dist/cli/main.js prepare >/dev/null
exec node hub-service/dist/main.js
