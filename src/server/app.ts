import { errorResponse, HttpError } from "./http-errors.js";
import { toJsonText } from "./json.js";

export interface AppRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface AppResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (request: AppRequest) => Promise<AppResponse> | AppResponse;

export const json = (body: unknown, status = 200): AppResponse => ({ status, body: toJsonText(body), contentType: "application/json" });

/**
 * A tiny router: exact (method, path) → handler, errors mapped in one place. Testable
 * in-process (`app.handle({...})`) with no socket; `http-server.ts` binds it to node:http.
 */
export class App {
  private readonly routes = new Map<string, Handler>();

  route(method: string, path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  async handle(request: AppRequest): Promise<AppResponse> {
    try {
      const handler = this.routes.get(`${request.method} ${request.path}`);
      if (handler !== undefined) return await handler(request);
      const known = [...this.routes.keys()].filter((r) => r.endsWith(` ${request.path}`));
      if (known.length > 0) throw new HttpError(405, "METHOD_NOT_ALLOWED", `${request.path} accepts ${known.map((r) => r.split(" ")[0]).join(", ")}`);
      throw new HttpError(404, "NO_SUCH_ROUTE", `no route ${request.method} ${request.path}`);
    } catch (error) {
      const { status, body } = errorResponse(error);
      return json(body, status);
    }
  }
}
