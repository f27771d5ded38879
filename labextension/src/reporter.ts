/**
 * Sends the latest of a changing value at most once per interval without ever losing the last one:
 * a value that changes while a send is on its way goes after it, a failed send is tried again.
 * Free of JupyterLab, so it is tested on its own.
 */
export class LatestSender<T> {
  private latest: T | undefined;
  private sent: string | undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sending = false;

  constructor(
    private readonly send: (value: T) => Promise<void>,
    private readonly intervalMs: number,
    private readonly retryMs = intervalMs * 5,
  ) {}

  update(value: T): void {
    this.latest = value;
    this.schedule(this.intervalMs);
  }

  /** The value not yet sent, if any: what to send at once when the page goes away. */
  unsent(): T | null {
    return this.latest !== undefined && JSON.stringify(this.latest) !== this.sent ? this.latest : null;
  }

  private schedule(ms: number): void {
    if (this.timer || this.sending) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    const value = this.unsent();
    if (value === null) return;
    this.sending = true;
    try {
      await this.send(value);
      this.sent = JSON.stringify(value);
    } catch {
      this.sending = false;
      return this.schedule(this.retryMs);
    }
    this.sending = false;
    if (this.unsent() !== null) this.schedule(this.intervalMs);
  }
}
