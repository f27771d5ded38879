/**
 * The lifecycle in remote mode (students.mode: remote): the service reaches the homes only through
 * the students' servers, and runs where it cannot see them (tests/support/remote.ts; journey-remote.test.ts
 * proves it), while these cases read the real homes to check what the servers wrote.
 */
import { lifecycleCases } from './lifecycle-cases';
import { REMOTE_MODE } from '../support/remote';

lifecycleCases({ env: REMOTE_MODE, wipeLeaves: ['.ipynb_checkpoints'] });
