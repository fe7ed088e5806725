import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { ScoreSaver, type SaveState } from "./saver";

/** A server whose answers the test decides, one request at a time. */
function harness() {
  const sent: [number, number | null][] = [];
  const answers: ((error?: Error) => void)[] = [];
  const states: string[] = [];
  const closed: string[] = [];
  const refused: number[] = [];
  const timers: { run: () => void; ms: number; cancelled: boolean }[] = [];
  const saver = new ScoreSaver(
    (position, score) => {
      sent.push([position, score]);
      return new Promise<void>((resolve, reject) => answers.push((error) => (error ? reject(error) : resolve())));
    },
    {
      state: (state: SaveState) => states.push(state),
      closed: (message) => closed.push(message),
      refused: (position) => refused.push(position),
    },
    (run, ms) => {
      const timer = { run, ms, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
  );
  const answer = async (error?: Error) => {
    answers.shift()!(error);
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { saver, sent, answer, states, closed, refused, timers };
}

describe("ScoreSaver", () => {
  it("sends one score at a time; a newer value of a case waits for the one on its way", async () => {
    const h = harness();
    h.saver.save(0, 3);
    h.saver.save(1, 2);
    h.saver.save(0, 4);
    expect(h.sent).toEqual([[0, 3]]);
    await h.answer();
    await h.answer();
    await h.answer();
    expect(h.sent).toEqual([[0, 3], [1, 2], [0, 4]]);
    expect(h.saver.pendingCount).toBe(0);
    expect(h.states).toEqual(["saving", "saved"]);
  });

  it("keeps a score the server did not get and tries again, sooner when asked", async () => {
    const h = harness();
    h.saver.save(2, 1);
    await h.answer(new ApiError("Could not reach the server", 0));
    expect(h.states.at(-1)).toBe("retrying");
    expect(h.saver.pendingCount).toBe(1);
    expect(h.timers.map((t) => t.ms)).toEqual([1000]);
    h.timers[0]!.run();
    await h.answer(new ApiError("Bad gateway", 502));
    expect(h.timers.map((t) => t.ms)).toEqual([1000, 2000]);
    h.saver.save(3, null); // a new score goes at once, with the one waiting
    expect(h.timers[1]!.cancelled).toBe(true);
    await h.answer();
    await h.answer();
    expect(h.sent).toEqual([[2, 1], [2, 1], [2, 1], [3, null]]);
    expect(h.states.at(-1)).toBe("saved");
    expect(h.saver.pendingCount).toBe(0);
  });

  it("stops when the study is closed", async () => {
    const h = harness();
    h.saver.save(0, 4);
    h.saver.save(1, 4);
    await h.answer(new ApiError("This study is closed", 409));
    expect(h.closed).toEqual(["This study is closed"]);
    expect(h.saver.isClosed).toBe(true);
    h.saver.save(2, 1);
    expect(h.sent).toEqual([[0, 4]]);
    expect(h.timers).toEqual([]);
  });

  it("drops a score the server refuses and goes on with the others", async () => {
    const h = harness();
    h.saver.save(0, 4);
    h.saver.save(1, 3);
    await h.answer(new ApiError("There is no case 1 for you", 404));
    await h.answer();
    expect(h.refused).toEqual([0]);
    expect(h.sent).toEqual([[0, 4], [1, 3]]);
    expect(h.states.at(-1)).toBe("saved");
  });
});
