import type { WithPrincipal } from "../access/access-control.js";
import { errorResponse, HttpError } from "./http-errors.js";
import { toJsonText } from "./json.js";

export interface AppRequest extends WithPrincipal {
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Who may call a route when the app has a guard: anyone, any verified caller (routes check their own scopes), or admins. */
export type RouteAccess = "public" | "caller" | "admin";

/** Runs before a guarded route (authentication): returns the request the route gets, or throws. */
export type Guard = (request: AppRequest, access: Exclude<RouteAccess, "public">) => Promise<AppRequest>;

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
  private readonly routes = new Map<string, { handler: Handler; access: RouteAccess }>();
  private guardFn: Guard | undefined;

  route(method: string, path: string, handler: Handler, access: RouteAccess = "caller"): this {
    this.routes.set(`${method} ${path}`, { handler, access });
    return this;
  }

  guard(guard: Guard): this {
    this.guardFn = guard;
    return this;
  }

  async handle(request: AppRequest): Promise<AppResponse> {
    try {
      const route = this.routes.get(`${request.method} ${request.path}`);
      if (route !== undefined) return await route.handler(this.guardFn === undefined || route.access === "public" ? request : await this.guardFn(request, route.access));
      const known = [...this.routes.keys()].filter((r) => r.endsWith(` ${request.path}`));
      if (known.length > 0) throw new HttpError(405, "METHOD_NOT_ALLOWED", `${request.path} accepts ${known.map((r) => r.split(" ")[0]).join(", ")}`);
      throw new HttpError(404, "NO_SUCH_ROUTE", `no route ${request.method} ${request.path}`);
    } catch (error) {
      const { status, body, headers } = errorResponse(error);
      return { ...json(body, status), headers };
    }
  }
}
