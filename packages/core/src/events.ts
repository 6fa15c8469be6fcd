/**
 * The events every SDK operation reports: the one channel a UI or the CLI renders from. They
 * live in this base package so that providers can emit them without depending on the facade.
 * Every event is plain JSON (no class instances, no functions).
 */

/** Fields every event has. */
export interface EventBase {
  /** Position in the operation's stream, from 1, without gaps. */
  seq: number;
  /** ISO-8601 time the event was made. */
  timestamp: string;
}

/**
 * One upstream waiter step, such as `Installing flannel into kube-flannel` or
 * `Waiting for kubeconfig`: `started`, then `succeeded` or `failed`.
 */
export interface StepEvent extends EventBase {
  type: 'step';
  /** The step's text, as upstream prints it before `: ok`. */
  step: string;
  status: 'started' | 'succeeded' | 'failed';
  /** For `failed`: the error's code and message. */
  error?: { code: string; message: string };
}

/** Progress of a transfer (bytes) or of a count of items. */
export interface ProgressEvent extends EventBase {
  type: 'progress';
  step: string;
  transferredBytes: number;
  totalBytes?: number;
}

/** A log line, as upstream's logger would print it. */
export interface LogEvent extends EventBase {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** A problem that does not stop the operation, such as an unknown key in the cluster file. */
export interface WarningEvent extends EventBase {
  type: 'warning';
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  path?: string;
}

/** Something the user must do by hand, such as the `kubeadm token create` command of a BYO join. */
export interface InstructionsEvent extends EventBase {
  type: 'instructions';
  /** The text upstream prints (on stderr). */
  text: string;
  /** The commands in it, one per entry. */
  commands: string[];
}

/** The last event of every operation. */
export interface DoneEvent extends EventBase {
  type: 'done';
  ok: boolean;
  error?: { code: string; message: string };
}

/** Any operation event. */
export type OcneEvent = StepEvent | ProgressEvent | LogEvent | WarningEvent | InstructionsEvent | DoneEvent;

/** An event as a producer hands it over, before the operation numbers and stamps it. */
export type EventInput = OcneEvent extends infer E
  ? E extends OcneEvent
    ? Omit<E, 'seq' | 'timestamp'>
    : never
  : never;

/** Where producers send events. */
export type EventSink = (event: EventInput) => void;

/**
 * Runs `fn` as a step: emits `started`, then `succeeded` or `failed` (and rethrows).
 */
export async function runStep<T>(
  emit: EventSink | undefined,
  step: string,
  fn: () => Promise<T>,
): Promise<T> {
  emit?.({ type: 'step', step, status: 'started' });
  try {
    const result = await fn();
    emit?.({ type: 'step', step, status: 'succeeded' });
    return result;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    emit?.({
      type: 'step',
      step,
      status: 'failed',
      error: {
        code: typeof e.code === 'string' ? e.code : 'OCNE_ERROR',
        message: String(e.message ?? error),
      },
    });
    throw error;
  }
}
