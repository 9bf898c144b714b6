import { tokenService } from "./tokenService";

// ApiError carries the backend's (or authbff's) status and error code:
// authbff answers {"error":{"code":"…","message":"…"}} for its own refusals
// (unauthenticated, forbidden, unavailable with Retry-After, …).
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

// BaseService is the base of the app's API services: every call goes
// through tokenService.authenticatedFetch, so through /api/proxy.
export class BaseService {
  constructor(protected readonly basePath = "") {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  protected async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, "Content-Type": "application/json" };
    }
    const res = await tokenService.authenticatedFetch(this.basePath + path, init);
    const text = await res.text();
    const data: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code, err?.message ?? `${method} ${path}: ${res.status}`);
    }
    return data as T;
  }
}

// springService is the Spring API behind authbff's proxy
// (NEXT_PUBLIC_SPRING_API_URL / BACKEND_API_URL on authbff's side).
export const springService = new BaseService();
