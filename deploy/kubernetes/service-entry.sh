#!/bin/sh
# The wod pod's command (deploy/kubernetes/wod-service.yaml): the secret shared with the hub's shim
# (the Secret wod-auth) placed where the service reads it, 0600; the data folder prepared (schema,
# secrets, admin accounts: a new admin's password is printed once, in the pod's log); then the
# service, with the JUPYTERHUB_* environment the hub gives a managed service on one host.
set -eu
umask 077
mkdir -p "$WOD_DATA_DIR/secrets"
install -m 600 /etc/wod/auth/auth-secret "$WOD_DATA_DIR/secrets/auth-secret"
node hub-service/dist/cli/main.js prepare
exec node hub-service/dist/main.js
