import { describe, expect, it } from "vitest";
import { ActiveTimeMeter } from "./active-time";

/** A clock the test moves by hand (milliseconds). */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe("ActiveTimeMeter", () => {
  it("counts visible time with recent input", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now);
    clock.advance(10_000);
    meter.input();
    clock.advance(20_000);
    expect(meter.seconds()).toBe(30);
  });

  it("stops counting a minute after the last input, until the next", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now);
    clock.advance(5_000);
    meter.input(); // active to 5 s, then up to 65 s
    clock.advance(200_000); // 195 s of it idle
    expect(meter.seconds()).toBe(65);
    meter.input();
    clock.advance(3_000);
    expect(meter.seconds()).toBe(68);
  });

  it("counts nothing while the tab is hidden, and coming back counts as input", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now);
    clock.advance(4_000);
    meter.setVisible(false);
    clock.advance(30_000);
    meter.input(); // input events while hidden do not count time either
    clock.advance(30_000);
    expect(meter.seconds()).toBe(4);
    meter.setVisible(true);
    clock.advance(50_000);
    expect(meter.seconds()).toBe(54);
    clock.advance(50_000); // idle past a minute since coming back
    expect(meter.seconds()).toBe(64);
  });

  it("starts hidden when the page opens in a background tab", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now, false);
    clock.advance(120_000);
    expect(meter.seconds()).toBe(0);
    meter.setVisible(true);
    clock.advance(1_500);
    expect(meter.seconds()).toBe(1.5);
  });

  it("never counts backwards when the clock steps back", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now);
    clock.advance(10_000);
    expect(meter.seconds()).toBe(10);
    clock.advance(-5_000);
    meter.input();
    expect(meter.seconds()).toBe(10);
    clock.advance(6_000);
    expect(meter.seconds()).toBe(11);
  });

  it("takes a shorter idle limit", () => {
    const clock = manualClock();
    const meter = new ActiveTimeMeter(clock.now, true, 1_000);
    clock.advance(5_000);
    expect(meter.seconds()).toBe(1);
  });
});
