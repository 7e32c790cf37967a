import type { HttpRequest, HttpResponse, Transport } from '../http-client.js';

/** Test-only: a Transport that replays recorded responses matched by URL, and logs requests. */
export interface Recorded {
  status?: number;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

/** One recording, a sequence (consumed in order, the last one repeats), or a function of the request. */
export type Route = Recorded | readonly Recorded[] | ((req: HttpRequest) => Recorded);

export class RecordedTransport implements Transport {
  readonly requests: HttpRequest[] = [];
  private readonly used = new Map<number, number>();

  /** `match` is a substring of the URL or a RegExp; the first matching route answers. */
  constructor(private readonly routes: ReadonlyArray<readonly [string | RegExp, Route]>) {}

  send(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const idx = this.routes.findIndex(([m]) => (typeof m === 'string' ? req.url.includes(m) : m.test(req.url)));
    if (idx < 0) return Promise.resolve(toResponse({ status: 404, body: `no recording for ${req.url}` }));
    const route = (this.routes[idx] as readonly [string | RegExp, Route])[1];
    if (typeof route === 'function') return Promise.resolve(toResponse(route(req)));
    if (isSequence(route)) {
      const n = this.used.get(idx) ?? 0;
      this.used.set(idx, n + 1);
      const rec = route[Math.min(n, route.length - 1)];
      if (!rec) throw new Error('empty recording sequence');
      return Promise.resolve(toResponse(rec));
    }
    return Promise.resolve(toResponse(route));
  }

  urls(): string[] {
    return this.requests.map((r) => r.url);
  }
}

function isSequence(route: Route): route is readonly Recorded[] {
  return Array.isArray(route);
}

function toResponse(rec: Recorded): HttpResponse {
  return {
    status: rec.status ?? 200,
    headers: rec.headers ?? {},
    body: typeof rec.body === 'string' ? Buffer.from(rec.body, 'utf8') : rec.body,
  };
}
