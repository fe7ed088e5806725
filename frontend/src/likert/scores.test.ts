import { describe, expect, it } from "vitest";
import { ScoreBook } from "./scores";

const items = (...scores: (number | null)[]) => scores.map((score, position) => ({ position, score }));

describe("ScoreBook", () => {
  it("counts scores and resumes at the first unscored case", () => {
    const book = new ScoreBook(items(3, null, 2, null));
    expect([book.count, book.scoredCount, book.allScored]).toEqual([4, 2, false]);
    expect(book.firstUnscored()).toBe(1);
    expect(new ScoreBook(items(1, 4)).firstUnscored()).toBeNull();
    expect(new ScoreBook(items(1, 4)).allScored).toBe(true);
  });

  it("takes positions from the items, not their order", () => {
    const book = new ScoreBook([{ position: 1, score: 4 }, { position: 0, score: null }]);
    expect([book.get(0), book.get(1)]).toEqual([null, 4]);
  });

  it("goes to the next unscored case, wrapping round, null when all are scored", () => {
    const book = new ScoreBook(items(null, 2, null, 3));
    expect(book.nextUnscored(0)).toBe(2);
    expect(book.nextUnscored(2)).toBe(0);
    book.set(0, 4);
    expect(book.nextUnscored(2)).toBeNull();
  });

  it("undoes scores last first, back to null after a first score and to the old one after a change", () => {
    const book = new ScoreBook(items(null, 2));
    expect(book.set(0, 3)).toEqual({ position: 0, score: 3, previous: null });
    expect(book.set(1, 1)).toEqual({ position: 1, score: 1, previous: 2 });
    expect(book.set(1, 1)).toBeNull(); // the same score again is no change
    expect(book.undo()).toEqual({ position: 1, score: 2, previous: 1 });
    expect(book.undo()).toEqual({ position: 0, score: null, previous: 3 });
    expect(book.undo()).toBeNull();
    expect([book.get(0), book.get(1), book.canUndo]).toEqual([null, 2, false]);
  });

  it("takes the server's values and forgets the undo history", () => {
    const book = new ScoreBook(items(null, null));
    book.set(0, 4);
    book.replace(items(null, 2));
    expect([book.get(0), book.get(1), book.canUndo]).toEqual([null, 2, false]);
  });

  it("refuses a position outside the order", () => {
    const book = new ScoreBook(items(null));
    expect(() => book.set(1, 4)).toThrow(RangeError);
    expect(() => new ScoreBook([{ position: 3, score: null }])).toThrow();
  });
});
