// Lets timers, messages and signals run between pieces of long synchronous work. A backend's
// forward() may finish without ever leaving the microtask queue (the JS backend computes
// synchronously), so without a macrotask turn a whole generation, inspection or training run
// would end before an abort() from a message, a timer or Ctrl+C could happen.
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
