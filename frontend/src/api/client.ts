/**
 * A small fetch client for the ICHLabel API: session auth (same-origin cookies), the CSRF header
 * Django wants on unsafe methods, JSON in and out, and one error type carrying the server's
 * `{message, extra}` body.
 */
import type { ApiErrorBody } from "./types";

/** An API call that failed: HTTP status 0 means the request never got an answer. */
export class ApiError extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(message: string, status: number, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
  }
}

/** The CSRF token: Django's `csrftoken` cookie, else a `{% csrf_token %}` field on the page. */
export function csrfToken(doc: Document = document): string {
  for (const part of doc.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(value.join("="));
  }
  const field = doc.querySelector<HTMLInputElement>("input[name=csrfmiddlewaretoken]");
  return field?.value ?? "";
}

/**
 * The user-facing text of an error body. DRF validation errors arrive as
 * `{message: "Validation error", extra: {fields: {name: ["..."]}}}`: the field messages are
 * appended so the user learns what to fix.
 */
export function errorText(body: unknown, fallback: string): string {
  if (!isErrorBody(body)) return fallback;
  const fields = body.extra["fields"];
  const details = fields && typeof fields === "object" ? fieldMessages(fields) : [];
  return details.length ? `${body.message}: ${details.join("; ")}` : body.message || fallback;
}

/** Turn a response (or a failed response's body) into an ApiError. */
export function apiErrorFrom(status: number, statusText: string, body: unknown): ApiError {
  const fallback = status ? `The server answered ${status} ${statusText}`.trim() : "No answer from the server";
  const extra = isErrorBody(body) ? body.extra : {};
  return new ApiError(errorText(body, fallback), status, extra);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Sent as a JSON body. */
  json?: unknown;
  signal?: AbortSignal;
  /** Let the request outlive the page (sent as the tab closes or navigates away). */
  keepalive?: boolean;
}

/** Call the API and return the parsed JSON answer; throws ApiError on any failure. */
export async function request<T>(url: string, options: RequestOptions = {}): Promise<T> {
  return (await requestWithStatus<T>(url, options)).body;
}

/** As `request`, with the answer's HTTP status (e.g. 201 created against 200 found). */
export async function requestWithStatus<T>(url: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
  const response = await send(url, options, "application/json");
  const parsed = await parseJson(response);
  if (!response.ok) throw apiErrorFrom(response.status, response.statusText, parsed);
  return { status: response.status, body: parsed as T };
}

/** GET a page of the site as HTML text (to re-render parts of it); throws ApiError on failure. */
export async function getHtml(url: string, signal?: AbortSignal): Promise<string> {
  const response = await send(url, signal ? { signal } : {}, "text/html");
  if (!response.ok) throw apiErrorFrom(response.status, response.statusText, null);
  return response.text();
}

/** The one fetch of the client: session cookies, CSRF header on unsafe methods, JSON body. */
async function send(url: string, options: RequestOptions, accept: string): Promise<Response> {
  const method = options.method ?? (options.json === undefined ? "GET" : "POST");
  const headers: Record<string, string> = { Accept: accept };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  try {
    return await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      ...(body === undefined ? {} : { body }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.keepalive ? { keepalive: true } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError("Could not reach the server; check the connection and try again", 0);
  }
}

/** GET an image (or any file) as a Blob; a refusal arrives as JSON and becomes an ApiError. */
export async function getBlob(url: string, accept = "image/png"): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: `${accept}, application/json` } });
  } catch {
    throw new ApiError("Could not reach the server", 0);
  }
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    throw apiErrorFrom(response.status, response.statusText, body);
  }
  return response.blob();
}

export const getJson = <T>(url: string, signal?: AbortSignal): Promise<T> =>
  request<T>(url, signal ? { signal } : {});

export const postJson = <T>(url: string, json: unknown = {}, keepalive = false): Promise<T> =>
  request<T>(url, { method: "POST", json, keepalive });

/** Progress of an upload: bytes of the request body sent so far, of `total`. */
export type UploadProgress = (loaded: number, total: number) => void;

/**
 * POST a multipart form with XMLHttpRequest, the one browser API that reports upload progress.
 * Resolves with the JSON answer; rejects with ApiError.
 */
export function postForm<T>(url: string, form: FormData, onProgress?: UploadProgress): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.responseType = "text";
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
    }
    xhr.addEventListener("load", () => {
      const body = parseText(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(apiErrorFrom(xhr.status, xhr.statusText, body));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError("The upload was interrupted; check the connection and try again", 0)),
    );
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was aborted", 0)));
    xhr.send(form);
  });
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as ApiErrorBody).message === "string" &&
    typeof (body as ApiErrorBody).extra === "object" &&
    (body as ApiErrorBody).extra !== null
  );
}

function fieldMessages(fields: object, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const label = name === "non_field_errors" ? prefix : prefix ? `${prefix}.${name}` : name;
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      out.push(label ? `${label}: ${value.join(" ")}` : value.join(" "));
    } else if (typeof value === "string") {
      out.push(label ? `${label}: ${value}` : value);
    } else if (value && typeof value === "object") {
      out.push(...fieldMessages(value, label));
    }
  }
  return out;
}

async function parseJson(response: Response): Promise<unknown> {
  return parseText(await response.text().catch(() => ""));
}

function parseText(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
