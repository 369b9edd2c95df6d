import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';

/** One dispatched Server-Sent Event (a block with data), as an EventSource sees it. */
export interface StreamMessage {
  id: string | undefined;
  event: string;
  data: string;
  /** Date.now() when its last line arrived. */
  receivedAt: number;
}

/**
 * A client of GET /v1/events/stream over plain HTTP, parsing the text/event-stream as the
 * HTML spec's EventSource does (fields, comments, dispatch on a blank line). Keeps every message
 * and comment; `next` waits for the next message not yet taken, failing after a timeout.
 */
export class EventStreamClient {
  readonly messages: StreamMessage[] = [];
  readonly comments: { text: string; receivedAt: number }[] = [];
  /** Resolves when the server ends the stream (or the connection is lost). */
  readonly ended: Promise<void>;
  private taken = 0;
  private readonly events = new EventEmitter();
  private buffer = '';
  private block: { id?: string; event?: string; data: string[] } = { data: [] };
  private closed = false;
  private reading = false;

  private constructor(
    private readonly call: ClientRequest,
    readonly response: IncomingMessage,
    paused: boolean,
  ) {
    response.setEncoding('utf8');
    // A connection cut mid-stream is an 'aborted' error on the response: the end of this stream, not a crash.
    response.on('error', () => undefined);
    if (paused) response.pause();
    else this.resume();
    this.ended = new Promise((resolve) => {
      response.once('close', () => {
        this.closed = true;
        this.events.emit('change');
        resolve();
      });
    });
  }

  /** Connects; resolves once the 200 and its headers arrived, rejects with the status and body otherwise. */
  static async connect(
    baseUrl: string,
    options: { key: string; lastEventId?: string; headers?: Record<string, string>; paused?: boolean },
  ): Promise<EventStreamClient> {
    const url = new URL('/v1/events/stream', baseUrl);
    return await new Promise((resolve, reject) => {
      const call = request(url, {
        headers: {
          Accept: 'text/event-stream',
          'X-API-Key': options.key,
          ...(options.lastEventId !== undefined ? { 'Last-Event-ID': options.lastEventId } : {}),
          ...options.headers,
        },
      });
      call.on('error', reject);
      call.on('response', (response) => {
        if (response.statusCode !== 200) {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            reject(
              Object.assign(new Error(`stream answered ${response.statusCode}: ${body}`), {
                status: response.statusCode,
                body,
              }),
            ),
          );
          return;
        }
        resolve(new EventStreamClient(call, response, options.paused ?? false));
      });
      call.end();
    });
  }

  /** The id of the last message received (what an EventSource sends as Last-Event-ID). */
  get lastEventId(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--)
      if (this.messages[i]!.id !== undefined) return this.messages[i]!.id;
    return undefined;
  }

  /** The next message not taken yet (waiting for it). */
  async next(what: string, timeoutMs = 30_000): Promise<StreamMessage> {
    await this.until(
      () => this.messages.length > this.taken,
      `${what} (have ${this.messages.length} messages)`,
      timeoutMs,
    );
    return this.messages[this.taken++]!;
  }

  /** Waits until `condition` holds over what arrived so far; fails after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          this.events.off('change', check);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          this.events.off('change', check);
          reject(new Error(`the stream ended before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        this.events.off('change', check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.events.on('change', check);
    });
  }

  close(): void {
    this.call.destroy();
  }

  /**
   * Starts reading (a client connected `paused` reads nothing: once Node's own small buffer is
   * full its socket stops reading, and the kernel's buffers fill up, as with a client that hangs).
   */
  resume(): void {
    if (this.reading) return;
    this.reading = true;
    this.response.on('data', (chunk: string) => this.feed(chunk));
    this.response.resume();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      this.line(line);
    }
    this.events.emit('change');
  }

  private line(line: string): void {
    if (line === '') {
      const { id, event, data } = this.block;
      this.block = { data: [] };
      if (data.length > 0) {
        this.messages.push({ id, event: event ?? 'message', data: data.join('\n'), receivedAt: Date.now() });
      }
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push({ text: line.slice(1).trim(), receivedAt: Date.now() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.block.data.push(value);
    else if (field === 'event') this.block.event = value;
    else if (field === 'id') this.block.id = value;
  }
}
