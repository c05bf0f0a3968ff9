/**
 * Writes records to stdout with backpressure (a slow pipe slows the consumer instead of
 * filling memory), and notices when the reader went away (`| head`): then the command
 * stops quietly, as `cat` does.
 */
export class RecordWriter {
  private closed = false;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', () => {
      // EPIPE (the reader left) or a failing disk: either way nothing more can be written.
      this.closed = true;
      for (const listener of this.listeners) listener();
    });
  }

  onClosed(listener: () => void): void {
    this.listeners.push(listener);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) return;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('close', done);
      });
    }
  }

  /** Resolves once everything written so far has been handed to the OS. */
  async end(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => this.stream.write('', () => resolve()));
  }
}
