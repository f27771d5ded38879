/**
 * The lifecycle against a real hub: a registration becomes a running, personalised JupyterLab
 * reachable with the mailed password and the start link; ending it leaves no trace of the student;
 * a workshop whose templates fail is purged and its seat freed.
 */
import { lifecycleCases } from './lifecycle-cases';

lifecycleCases();
