/**
 * The registration states in which the student works in their JupyterLab (the clock runs). The
 * service owns the states (hub-service/src/registrations/states.ts, CLOCK_RUNNING); the extension
 * does not load the service's code, so tests/unit/states.test.ts checks the two lists agree.
 */
export const CLOCK_RUNNING: readonly string[] = ['ready', 'reminded'];
