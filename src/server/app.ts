import type { WithPrincipal } from "../access/access-control.js";
import { errorResponse, HttpError } from "./http-errors.js";
import { toJsonText } from "./json.js";

export interface AppRequest extends WithPrincipal {
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Runs before a matched route (e.g. authentication): returns the request the route gets, or throws. */
export type Guard = (request: AppRequest, route: string) => Promise<AppRequest>;

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
  private guardFn: Guard | undefined;

  route(method: string, path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  guard(guard: Guard): this {
    this.guardFn = guard;
    return this;
  }

  async handle(request: AppRequest): Promise<AppResponse> {
    try {
      const route = `${request.method} ${request.path}`;
      const handler = this.routes.get(route);
      if (handler !== undefined) return await handler(this.guardFn === undefined ? request : await this.guardFn(request, route));
      const known = [...this.routes.keys()].filter((r) => r.endsWith(` ${request.path}`));
      if (known.length > 0) throw new HttpError(405, "METHOD_NOT_ALLOWED", `${request.path} accepts ${known.map((r) => r.split(" ")[0]).join(", ")}`);
      throw new HttpError(404, "NO_SUCH_ROUTE", `no route ${request.method} ${request.path}`);
    } catch (error) {
      const { status, body, headers } = errorResponse(error);
      return { ...json(body, status), headers };
    }
  }
}
