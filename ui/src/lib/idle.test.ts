import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchIdle } from './idle';

describe('locking a tablet left alone', () => {
  afterEach(() => vi.useRealTimers());

  it('fires after the delay without a touch, and a touch starts the delay again', () => {
    vi.useFakeTimers();
    const tablet = new EventTarget();
    const lock = vi.fn();
    const stop = watchIdle(10_000, lock, tablet);

    vi.advanceTimersByTime(9_000);
    tablet.dispatchEvent(new Event('pointerdown'));
    vi.advanceTimersByTime(9_000);
    expect(lock).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(lock).toHaveBeenCalledTimes(1);

    stop();
    vi.advanceTimersByTime(60_000);
    expect(lock).toHaveBeenCalledTimes(1);
  });
});
