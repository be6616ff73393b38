/** Calls `onIdle` after `ms` without a touch, click or key on `target`
 * (the window); returns the function that stops watching. */
export function watchIdle(ms: number, onIdle: () => void, target: EventTarget = window): () => void {
  let timer = setTimeout(onIdle, ms);
  const reset = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
  };
  const events = ['pointerdown', 'keydown'] as const;
  for (const e of events) target.addEventListener(e, reset, { passive: true });
  return () => {
    clearTimeout(timer);
    for (const e of events) target.removeEventListener(e, reset);
  };
}
