import { AckPolicy, createInbox, DeliverPolicy, type JetStreamManager } from "nats";
import { parseAckSubject } from "./jetstream-ack-info.js";
import { setTimeout as sleep } from "node:timers/promises";
import { NatsInboxSocket, type InboxFrame, type InboxHandlers } from "./nats-inbox-socket.js";

/** One delivered message: stream sequence, arrival (stored) time in µs, and payload (UTF-8 decoded). */
export interface Delivered {
  readonly seq: number;
  readonly arrivedMicros: number;
  readonly data: string;
}

export interface FeedOptions {
  /** The NATS server, for the connection that carries the messages, pull requests and acks. */
  readonly url: string;
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  /** Unacknowledged messages NATS sends at most; bounds the queue. */
  readonly maxAckPending: number;
  /** Messages requested ahead of what the caller took, at most: what NATS sends before the processor asks again. */
  readonly window: number;
  /** How long a pull request waits for messages before NATS ends it (a status 408 with what it left undelivered); default 5 s. */
  readonly pullExpiresMs?: number;
}

/**
 * A redelivery only helps another instance after a crash, and a restart recreates the consumer
 * anyway; a short ack_wait would only resend what a busy processor holds (a whole ack window).
 */
const ACK_WAIT_NANOS = 30 * 60 * 1e9;

const DEFAULT_PULL_EXPIRES_MS = 5000;
/** How late NATS may end an expired pull request (it checks expiries as it goes). */
const EXPIRY_MARGIN_MS = 250;

/**
 * A durable JetStream pull consumer, read by a callback into a queue and acknowledged
 * cumulatively (AckPolicy.All: one ack covers every earlier message); per-message acks and
 * async iteration held a Node consumer near 50k messages/s. Messages are pulled a window ahead
 * of what the caller took: a push consumer sends as fast as the server can, and a server
 * pushing into a busy reader spent three times the CPU per message (on the cores the processor needs).
 * Messages, pull requests and acks use a connection of their own (NatsInboxSocket); the general
 * client's connection only manages the consumer. The caller's checkpoint, not NATS,
 * says where to resume, so `open(after)` (re)creates the consumer at the message after it, on a
 * fresh inbox. A lost delivery (a gap in the delivery counter, or the feed's connection ending,
 * e.g. across a NATS restart) would only come back after ack_wait, behind newer messages: the feed then drops what
 * follows and reports `broken`, and the caller commits what it applied and reopens.
 */
export class JetStreamFeed {
  private queue: Delivered[] = [];
  private conn: NatsInboxSocket | undefined;
  private inbox = "";
  private nextDelivery = 1;
  /** The last message of each batch taken and not yet acknowledged: where acks can go, as flushes end after whole batches. */
  private ackPoints: { seq: number; reply: string; count: number }[] = [];
  private unacked = 0;
  /** Messages asked for by pull requests and neither delivered nor given up by NATS. */
  private requested = 0;
  /** When every pull request made has expired, with a margin: NATS has ended them all by then. */
  private answersDue = 0;
  broken = false;
  /** Where the newest queued message's reply (ack) subject is: made a string only when a batch taken ends with it. */
  private lastReply: { bytes: Buffer; start: number; end: number } = { bytes: Buffer.alloc(0), start: 0, end: 0 };
  /** Wakes a caller waiting in `arrival`. */
  private wake: (() => void) | undefined;
  /** Messages the stream still holds for the consumer after the last one delivered. */
  pending = 0;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly options: FeedOptions,
  ) {}

  /** (Re)creates the consumer to deliver from the message after `afterSeq`; drops anything queued. */
  async open(afterSeq: number): Promise<void> {
    this.conn?.close();
    this.conn = undefined;
    this.queue = [];
    this.ackPoints = [];
    this.unacked = 0;
    this.requested = 0;
    this.broken = false;
    this.nextDelivery = 1;
    const { url, stream, durable, filterSubject, maxAckPending } = this.options;
    // A closed socket hands nothing more over, so nothing from an earlier connection reaches the new consumer.
    this.inbox = createInbox();
    this.conn = await connectRetrying(url, this.inbox, {
      message: (frame) => this.receive(frame),
      status: (code, headers) => this.ended(code, headers),
      closed: () => {
        this.broken = true;
      },
    });
    // A filter equal to the stream's one subject is left out: nats-server then reads the stream
    // without matching each message to it, a sixth less of its CPU per message delivered.
    const subjects = (await this.jsm.streams.info(stream)).config.subjects ?? [];
    const whole = subjects.length === 1 && subjects[0] === filterSubject;
    await this.jsm.consumers.delete(stream, durable).catch(() => undefined);
    await this.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
      ...(whole ? {} : { filter_subject: filterSubject }),
      max_ack_pending: maxAckPending,
      ack_wait: ACK_WAIT_NANOS,
      // Its state would only matter to a consumer resumed by NATS, and open() recreates it; kept on
      // disk, the state of a million unacknowledged messages is rewritten several times a second.
      mem_storage: true,
    });
    this.pull();
  }

  /**
   * Asks for what the window has room for, once that is at least half of it (few, large
   * requests). Past every request's expiry none is outstanding, whatever was counted: nats-server
   * 2.9 sometimes ends a request that got part of its batch without the 408 that says so, and the
   * feed then waited for messages it would never be sent.
   */
  private pull(): void {
    const expiresMs = this.options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
    if (this.requested > 0 && Date.now() > this.answersDue) this.requested = 0;
    const room = this.options.window - this.requested - this.queue.length;
    if (this.conn === undefined || this.broken || room < this.options.window / 2) return;
    const { stream, durable } = this.options;
    this.conn.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`, JSON.stringify({ batch: room, expires: expiresMs * 1e6 }), this.inbox);
    this.requested += room;
    this.answersDue = Date.now() + expiresMs + EXPIRY_MARGIN_MS;
  }

  private receive(frame: InboxFrame): void {
    if (this.broken) return;
    const { bytes, replyStart, replyEnd } = frame;
    const info = parseAckSubject(bytes, replyStart, replyEnd);
    if (info === undefined) return;
    this.requested--;
    if (info.deliverySeq !== this.nextDelivery) {
      this.broken = true;
      return;
    }
    this.nextDelivery++;
    this.pending = info.pending;
    // Delivered before on this inbox with no gap: queued or applied already. (A cumulative ack of
    // it would also cover only up to its own, older, sequence.)
    if (info.redelivered) return;
    this.queue.push({ seq: info.streamSeq, arrivedMicros: info.storedMicros, data: bytes.toString("utf8", frame.dataStart, frame.dataEnd) });
    const last = this.lastReply;
    last.bytes = bytes;
    last.start = replyStart;
    last.end = replyEnd;
    this.wake?.();
  }

  /**
   * Resolves once a message is queued (with the rest of its socket read, as the caller resumes
   * after it) or after `ms`. A fixed sleep instead delayed each arriving event by up to its
   * length: at 20k events/s, freshness p50 went from 121 to 87 ms without it.
   */
  arrival(ms: number): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined; // a later caller's wait is its own
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** A status ends a pull request (expired, 408; or refused, 409): NATS says how many of its messages it will not send. */
  private ended(code: number, headers: string): void {
    const left = Number(/^Nats-Pending-Messages:\s*(\d+)/im.exec(headers)?.[1]);
    // Without the count the request's share is unknown: start the window afresh (a late delivery only overfills it).
    if (left > 0) this.requested = Math.max(0, this.requested - left);
    else if (code === 408) this.requested = 0;
    this.pull();
  }

  /** Everything delivered since the last call, in order; it counts as unacknowledged until `ackUpTo`. */
  take(): Delivered[] {
    const taken = this.queue;
    this.queue = [];
    const last = taken.at(-1);
    if (last !== undefined) {
      const { bytes, start, end } = this.lastReply;
      this.ackPoints.push({ seq: last.seq, reply: bytes.toString("latin1", start, end), count: taken.length });
    }
    this.unacked += taken.length;
    this.pull();
    return taken;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Messages taken and not acknowledged. */
  get unackedCount(): number {
    return this.unacked;
  }

  /**
   * Acknowledges the taken messages up to `seq` with one ack, of the last whole taken batch that
   * ends at or before it (a durable position inside a batch leaves that batch for the next ack).
   */
  ackUpTo(seq: number): void {
    let last = -1;
    while (last + 1 < this.ackPoints.length && this.ackPoints[last + 1]!.seq <= seq) last++;
    if (last < 0) return;
    this.conn?.publish(this.ackPoints[last]!.reply, "+ACK");
    for (const point of this.ackPoints.splice(0, last + 1)) this.unacked -= point.count;
  }

  close(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}

/** A server restarting (the reason a feed reopens) takes a moment to listen again: tries for this long. */
const CONNECT_PATIENCE_MS = 30_000;

async function connectRetrying(url: string, inbox: string, handlers: InboxHandlers): Promise<NatsInboxSocket> {
  const until = Date.now() + CONNECT_PATIENCE_MS;
  for (;;) {
    try {
      return await NatsInboxSocket.open(url, inbox, handlers);
    } catch (error) {
      if (Date.now() >= until) throw error;
      await sleep(250);
    }
  }
}
