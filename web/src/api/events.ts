// Live notices from GET /v1/me/events (server-sent events). The browser's EventSource cannot
// send a bearer token, so the stream is read with fetch; it reconnects after a pause, and
// each notice only says which list to read again (the API's notices are hints, not history).
import { session } from "../session";

export interface Notice {
  type: string;
  data: unknown;
}

/** Splits a text/event-stream into notices; keeps an unfinished block for the next chunk. */
export class EventParser {
  private buffer = "";

  push(chunk: string): Notice[] {
    this.buffer += chunk.replace(/\r\n?/g, "\n");
    const notices: Notice[] = [];
    let end = this.buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const notice = parseBlock(block);
      if (notice) notices.push(notice);
      end = this.buffer.indexOf("\n\n");
    }
    return notices;
  }
}

function parseBlock(block: string): Notice | null {
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  try {
    return { type, data: JSON.parse(text) };
  } catch {
    return { type, data: text };
  }
}

/** Listen until ``stop`` is called; ``onNotice`` gets each notice, ``onOpen`` each (re)connection. */
export function listen(onNotice: (notice: Notice) => void, onOpen: () => void = () => {}): () => void {
  const controller = new AbortController();
  let stopped = false;

  async function run(): Promise<void> {
    let pause = 1000;
    while (!stopped) {
      const token = session.token();
      if (!token) return;
      try {
        const response = await fetch("/v1/me/events", {
          headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
          signal: controller.signal,
        });
        if (response.status === 401) {
          session.end();
          return;
        }
        if (response.ok && response.body) {
          pause = 1000;
          onOpen();
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          const parser = new EventParser();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(value).forEach(onNotice);
          }
        }
      } catch {
        if (stopped) return;
      }
      // Back off gently after a lost connection, up to half a minute between tries.
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 30000);
    }
  }

  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
