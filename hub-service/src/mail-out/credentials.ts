/** The credentials mail: how to reach your JupyterLab. Sent by the CREATE job's last step. */
import type { Credentials, CredentialsSink } from '../lifecycle/verbs.js';
import type { Outbox } from './outbox.js';

export class CredentialsMailer implements CredentialsSink {
  constructor(
    private readonly outbox: Outbox,
    private readonly brand: string,
    /** where credentials of students without a participant go (orders from the CLI) */
    private readonly operatorAddress: string,
  ) {}

  async deliver(c: Credentials): Promise<void> {
    const deadline = c.deadlineAt ? new Date(c.deadlineAt).toUTCString() : null;
    const lines = [
      `Your ${c.workshop.name} workshop is ready.`,
      '',
      ...(c.startUrl ? ['Start it with one click:', c.startUrl, ''] : []),
      `Or log in at ${c.hubUrl}`,
      `  username: ${c.student}`,
      `  password: ${c.password}`,
      '',
      ...(deadline ? [`Your workshop is open until ${deadline}. Save what you want to keep before then:`, 'at the end the account and its files are wiped.', ''] : []),
      ...(c.statusUrl ? ['Your status page (time left, end the workshop early):', c.statusUrl, ''] : []),
      `— ${this.brand}`,
    ];
    await this.outbox.send({
      key: `credentials-${c.registrationId !== null ? `registration-${c.registrationId}` : c.student}-job-${c.jobId}`,
      to: c.email ?? this.operatorAddress,
      subject: `[${this.brand}] Your ${c.workshop.name} workshop is ready`,
      text: lines.join('\n'),
    });
  }
}
