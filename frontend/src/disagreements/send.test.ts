import { describe, expect, it } from "vitest";

import { sendSummary } from "./send";

describe("sendSummary", () => {
  it("names the readers once and each refusal with its reason", () => {
    const text = sendSummary({
      sent: [
        { scan: 1, reader: "neuro3", reason: {} },
        { scan: 2, reader: "neuro2", reason: {} },
        { scan: 4, reader: "neuro3", reason: {} },
      ],
      refused: [{ scan: 7, code: "pending_second_read", reason: "a second read is pending" }],
    });
    expect(text).toBe(
      "3 scans sent to a blinded second read (neuro2, neuro3); 1 refused: scan 7: a second read is pending.",
    );
  });

  it("says so when nothing went", () => {
    expect(sendSummary({ sent: [], refused: [] })).toBe("No scan was sent.");
  });
});
