// The live feed: server-sent events from /live (the outbox, as it is committed), read with fetch so the
// bearer token can be sent. It resumes from its cursor after a drop, so nothing is missed in between.
import { t } from "./i18n.js";
import { $, state } from "./util.js";

export function listen(onChange) {
  state.live?.abort();
  const controller = new AbortController();
  state.live = controller;
  (async () => {
    let since = null;
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(`/live${since ? `?since=${since}` : ""}`, {
          headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" }, signal: controller.signal,
        });
        if (!response.ok) throw new Error(response.statusText);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replaceAll("\r\n", "\n");
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const chunk = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const fields = parse(chunk);
            if (fields.event === "ready") {
              since = fields.data;
              $("#live").textContent = `● ${t("live")}`;
              $("#live").dataset.state = "on";
            } else if (fields.event === "change") {
              if (fields.id) since = fields.id;
              onChange(JSON.parse(fields.data));
            }
          }
        }
        // The server ends each stream after a while: reconnect at once from the cursor.
        continue;
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      $("#live").textContent = t("offline");
      $("#live").dataset.state = "off";
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}

function parse(chunk) {
  const fields = {};
  for (const line of chunk.split("\n")) {
    const at = line.indexOf(":");
    if (at <= 0) continue;
    fields[line.slice(0, at)] = line.slice(at + 1).trimStart();
  }
  return fields;
}
