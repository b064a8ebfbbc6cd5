import { AckPolicy, createInbox, DeliverPolicy, type JetStreamManager, type Msg, type NatsConnection, type Subscription } from "nats";
import { parseAckSubject } from "./jetstream-ack-info.js";

/** One delivered message: stream sequence, arrival (stored) time in µs, payload, and where to ack it. */
export interface Delivered {
  readonly seq: number;
  readonly arrivedMicros: number;
  readonly data: Uint8Array;
  readonly reply: string;
}

export interface FeedOptions {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  /** Unacknowledged messages NATS sends at most; bounds the queue. */
  readonly maxAckPending: number;
}

const ACK = new TextEncoder().encode("+ACK");
/**
 * A redelivery only helps another instance after a crash, and a restart recreates the consumer
 * anyway; a short ack_wait would only resend what a busy processor holds (a whole ack window).
 */
const ACK_WAIT_NANOS = 30 * 60 * 1e9;

/**
 * A durable JetStream push consumer, read by a callback into a queue and acknowledged
 * cumulatively (AckPolicy.All: one ack covers every earlier message); per-message acks and
 * async iteration held a Node consumer near 50k messages/s. The caller's checkpoint, not NATS,
 * says where to resume, so `open(after)` (re)creates the consumer at the message after it, on a
 * fresh inbox. A lost delivery (a gap in the delivery counter, or a reconnect, e.g. across a NATS
 * restart) would only come back after ack_wait, behind newer messages: the feed then drops what
 * follows and reports `broken`, and the caller commits what it applied and reopens.
 */
export class JetStreamFeed {
  private queue: Delivered[] = [];
  private sub: Subscription | undefined;
  private nextDelivery = 1;
  /** The last message of each batch taken and not yet acknowledged: where acks can go, as flushes end after whole batches. */
  private ackPoints: { seq: number; reply: string; count: number }[] = [];
  private unacked = 0;
  broken = false;
  /** Messages the stream still holds for the consumer after the last one delivered. */
  pending = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: FeedOptions,
  ) {}

  /** (Re)creates the consumer to deliver from the message after `afterSeq`; drops anything queued. */
  async open(afterSeq: number): Promise<void> {
    this.sub?.unsubscribe();
    this.queue = [];
    this.ackPoints = [];
    this.unacked = 0;
    this.broken = false;
    this.nextDelivery = 1;
    const { stream, durable, filterSubject, maxAckPending } = this.options;
    const sub: Subscription = this.nc.subscribe(createInbox(), { callback: (_error, m) => this.receive(sub, m) });
    this.sub = sub;
    await this.jsm.consumers.delete(stream, durable).catch(() => undefined);
    await this.jsm.consumers.add(stream, {
      durable_name: durable,
      deliver_subject: sub.getSubject(),
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
      filter_subject: filterSubject,
      max_ack_pending: maxAckPending,
      ack_wait: ACK_WAIT_NANOS,
    });
  }

  private receive(sub: Subscription, m: Msg): void {
    if (sub !== this.sub || this.broken) return;
    const reply = m.reply; // decoded from bytes on each access
    const info = parseAckSubject(reply);
    if (info === undefined) return;
    if (info.deliverySeq !== this.nextDelivery) {
      this.broken = true;
      return;
    }
    this.nextDelivery++;
    this.pending = info.pending;
    // Delivered before on this inbox with no gap: queued or applied already. (A cumulative ack of
    // it would also cover only up to its own, older, sequence.)
    if (info.redelivered) return;
    this.queue.push({ seq: info.streamSeq, arrivedMicros: info.storedMicros, data: m.data, reply: reply! });
  }

  /** Everything delivered since the last call, in order; it counts as unacknowledged until `ackUpTo`. */
  take(): Delivered[] {
    const taken = this.queue;
    this.queue = [];
    const last = taken.at(-1);
    if (last !== undefined) this.ackPoints.push({ seq: last.seq, reply: last.reply, count: taken.length });
    this.unacked += taken.length;
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
    this.nc.publish(this.ackPoints[last]!.reply, ACK);
    for (const point of this.ackPoints.splice(0, last + 1)) this.unacked -= point.count;
  }

  markBroken(): void {
    this.broken = true;
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
