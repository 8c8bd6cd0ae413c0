/**
 * Reads a server-sent event stream (an admin listener's `/queries/stream` or
 * `/events` with `Accept: text/event-stream`) to its end, or until `signal`:
 * each event is a block ending in a blank line, and its `data:` line one JSON
 * value, handed to `each`. Comment lines (`: …`) are skipped.
 */
export async function readEventStream<T>(res: Response, each: (value: T) => void, signal?: AbortSignal): Promise<void> {
  const reader = res.body!.getReader();
  signal?.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split('\n').find((l) => l.startsWith('data: '));
      if (data) each(JSON.parse(data.slice(6)) as T);
    }
  }
}
