import { describe, expect, it } from "vitest";
import { ApiError, apiErrorFrom, csrfToken, errorText } from "./client";
import { ImportBatchEndpoints } from "./imports";

describe("errorText", () => {
  it("shows the server's message", () => {
    expect(errorText({ message: "no files were uploaded to this import", extra: {} }, "x")).toBe(
      "no files were uploaded to this import",
    );
  });

  it("adds DRF field errors", () => {
    const body = {
      message: "Validation error",
      extra: { fields: { split: ['"x" is not a valid choice.'], non_field_errors: ["Bad."] } },
    };
    expect(errorText(body, "x")).toBe('Validation error: split: "x" is not a valid choice.; Bad.');
  });

  it("falls back when the body is not the API's error shape", () => {
    expect(errorText("<html>", "The server answered 502 Bad Gateway")).toBe(
      "The server answered 502 Bad Gateway",
    );
    expect(errorText(null, "fallback")).toBe("fallback");
  });
});

describe("apiErrorFrom", () => {
  it("keeps status and extra", () => {
    const error = apiErrorFrom(409, "Conflict", { message: "already running", extra: { id: 1 } });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.message).toBe("already running");
    expect(error.extra).toEqual({ id: 1 });
  });

  it("describes an answer without a JSON body", () => {
    expect(apiErrorFrom(500, "Internal Server Error", null).message).toBe(
      "The server answered 500 Internal Server Error",
    );
  });
});

describe("csrfToken", () => {
  const doc = (cookie: string, field?: string) =>
    ({
      cookie,
      querySelector: () => (field === undefined ? null : { value: field }),
    }) as unknown as Document;

  it("reads the csrftoken cookie", () => {
    expect(csrfToken(doc("sessionid=abc; csrftoken=tok%3D1; other=2"))).toBe("tok=1");
  });

  it("falls back to the form's csrfmiddlewaretoken", () => {
    expect(csrfToken(doc("sessionid=abc", "from-form"))).toBe("from-form");
    expect(csrfToken(doc(""))).toBe("");
  });
});

describe("ImportBatchEndpoints", () => {
  it("derives every URL from the create URL", () => {
    const e = new ImportBatchEndpoints("/api/v1/import-batches/create/", "http://h/study/import/");
    const id = "0b9f3c1e-7a0f-4a53-9d7c-2b0e1f7b8a10";
    expect(e.detail(id)).toBe(`/api/v1/import-batches/${id}/`);
    expect(e.files(id)).toBe(`/api/v1/import-batches/${id}/files/`);
    expect(e.start(id)).toBe(`/api/v1/import-batches/${id}/start/`);
    expect(e.cancel(id)).toBe(`/api/v1/import-batches/${id}/cancel/`);
  });

  it("follows a mount under a prefix", () => {
    const e = new ImportBatchEndpoints("/ich/api/v1/import-batches/create/", "http://h/ich/study/import/");
    expect(e.start("b")).toBe("/ich/api/v1/import-batches/b/start/");
  });
});
