/**
 * A participant's whole journey by mail, through a real SMTP relay that this test runs: welcome,
 * credentials, reminder, thanks with the badge, the milestone on the third finished workshop; the
 * apology when a deployment fails; a relay down then back loses nothing and sends nothing twice.
 * "Once" is checked after the event that would have brought the second (the job finished, the
 * mailer or the timers having passed again), on the relay and in the mails table: never after a sleep.
 */
import { journeyCases } from './journey-cases';

journeyCases();
