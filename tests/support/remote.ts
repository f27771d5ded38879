/**
 * A hub in remote mode (students.mode: remote) whose service cannot see the homes: the hub starts
 * it through service.wrapper in a mount namespace of its own, where the homes folder is an empty
 * tmpfs. Every deployment, completion, archive and wipe then has to go through the students' servers
 * (their contents API), which the hub starts on this host as local mode runs them. Needs root
 * (unshare, mount), as the tests run here.
 */
const HIDE_HOMES = 'mount -t tmpfs -o mode=0700,size=1m wod-no-homes "$WOD_DATA_DIR/homes" && exec "$@"';

export const REMOTE_MODE: Record<string, string> = {
  WOD_STUDENTS_MODE: 'remote',
  WOD_SERVICE_WRAPPER: JSON.stringify(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', HIDE_HOMES, 'wod-service']),
};
