import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { App } from "./app.js";
import { errorResponse, HttpError } from "./http-errors.js";
import { toJsonText } from "./json.js";

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
}

export interface RunningServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Reads a body up to `limit` bytes; beyond that, a 413 (and the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(new HttpError(413, "BODY_TOO_LARGE", `the request body (${declared} bytes) is over the limit of ${limit} bytes (server.bodyLimitBytes)`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, "BODY_TOO_LARGE", `the request body is over the limit of ${limit} bytes (server.bodyLimitBytes)`));
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Serves an App over HTTP/1.1 with keep-alive. */
export function startHttpServer(app: App, options: HttpServerOptions): Promise<RunningServer> {
  const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
    const path = (request.url ?? "/").split("?")[0]!;
    readBody(request, options.bodyLimitBytes)
      .then((body) => app.handle({ method: request.method ?? "GET", path, body, headers: request.headers }))
      .catch((error: unknown) => {
        const { status, body } = errorResponse(error);
        return { status, body: toJsonText(body), contentType: "application/json", headers: status === 413 ? { connection: "close" } : undefined };
      })
      .then((result) => {
        // Headers as a flat array: Node writes them without iterating an object.
        const headers = ["content-type", result.contentType, "content-length", String(Buffer.byteLength(result.body))];
        for (const [name, value] of Object.entries(result.headers ?? {})) headers.push(name, value);
        response.writeHead(result.status, headers);
        response.end(result.body);
      }, () => response.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        server,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
        }),
      });
    });
  });
}
