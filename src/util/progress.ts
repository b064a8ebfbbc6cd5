/** Long work reports phases (and, where the engine knows, a percentage) through this; the CLI draws it. */
export interface ProgressEvent {
  readonly phase: string;
  readonly percent?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const noProgress: ProgressListener = () => undefined;
