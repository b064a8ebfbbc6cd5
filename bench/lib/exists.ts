import { stat } from "node:fs/promises";

/** Whether a path exists (generated data is cached between runs). */
export const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
