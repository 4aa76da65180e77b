// The playground page: one WebSocket drives this page's session (/ws/play),
// another watches any session by id (/ws/watch). Plain DOM, no library.
"use strict";

const $ = (id) => document.getElementById(id);
const wsUrl = (path) => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
const show = (value) => (value === undefined ? "" : JSON.stringify(value, null, 1));
const MAX_ROWS = 500;

let play = null;
let spec = null;
let watcher = null;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function send(message) {
  $("error").textContent = "";
  play.send(JSON.stringify(message));
}

function step(action) {
  send({ op: "step", action });
}

// ---- the action form, following the action space ----
function actionForm(action) {
  const form = $("action-form");
  form.replaceChildren();
  if (action.kind === "discrete" && action.n <= 64) {
    const row = el("div", { class: "row" });
    for (let i = 0; i < action.n; i++) {
      const value = action.start + i;
      row.append(el("button", { type: "button", class: "action", "data-action": value, text: String(value), onclick: () => step(value) }));
    }
    form.append(row);
  } else if (action.kind === "discrete") {
    const input = el("input", { id: "action-number", type: "number", min: action.start, max: action.start + action.n - 1, value: action.start });
    form.append(el("div", { class: "row" }, [input, el("button", { id: "step-button", type: "button", text: "Step", onclick: () => step(Number(input.value)) })]));
  } else if (action.kind === "box" && action.low.length <= 32) {
    const inputs = action.low.map((low, i) => boxInput(action, i, low, action.high[i], form));
    form.append(el("button", { id: "step-button", type: "button", text: "Step", onclick: () => step(reshape(inputs.map((x) => Number(x.value)), action.shape)) }));
  } else if (action.kind === "text") {
    const input = el("input", { id: "action-text", type: "text", maxlength: action.max_length, size: 32, placeholder: `${action.min_length}–${action.max_length} characters` });
    const go = () => step(input.value);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    form.append(el("div", { class: "row" }, [input, el("button", { id: "step-button", type: "button", text: "Step", onclick: go })]));
  } else {
    const area = el("textarea", { id: "action-json" });
    area.value = JSON.stringify(action.example ?? null);
    const go = () => {
      try { step(JSON.parse(area.value)); } catch (e) { $("error").textContent = "the action is not JSON: " + e.message; }
    };
    form.append(area, el("button", { id: "step-button", type: "button", text: "Step", onclick: go }));
  }
}

function boxInput(action, i, low, high, form) {
  const integer = action.dtype.startsWith("int") || action.dtype.startsWith("uint");
  const bounded = low !== null && high !== null;
  const start = bounded ? (integer ? Math.round((low + high) / 2) : (low + high) / 2) : 0;
  const input = el("input", { id: `action-${i}`, type: bounded ? "range" : "number", value: start, step: integer ? 1 : bounded ? (high - low) / 200 : "any" });
  if (bounded) { input.min = low; input.max = high; }
  input.value = start;
  const shown = el("code", { text: String(start) });
  input.addEventListener("input", () => { shown.textContent = input.value; });
  form.append(el("label", { class: "slider" }, [el("span", { text: `[${i}]` }), input, shown]));
  return input;
}

function reshape(flat, shape) {
  if (shape.length <= 1) return shape.length === 0 ? flat[0] : flat;
  const size = flat.length / shape[0];
  return Array.from({ length: shape[0] }, (_, k) => reshape(flat.slice(k * size, (k + 1) * size), shape.slice(1)));
}

// ---- tools: a form per tool, from its input schema ----
function toolForms(tools) {
  const box = $("tools");
  if (!tools.length) return;
  box.replaceChildren();
  for (const tool of tools) {
    const props = (tool.input_schema && tool.input_schema.properties) || {};
    const fields = Object.entries(props).map(([name, schema]) => toolField(tool.name, name, schema));
    const call = () => {
      const args = {};
      try {
        for (const [name, type, input] of fields) {
          if (type === "boolean") args[name] = input.checked;
          else if (input.value === "") continue;
          else if (type === "number" || type === "integer") args[name] = Number(input.value);
          else if (type === "string") args[name] = input.value;
          else args[name] = JSON.parse(input.value);
        }
      } catch (e) { $("error").textContent = `tool ${tool.name}: an argument is not JSON: ${e.message}`; return; }
      send({ op: "tool", name: tool.name, arguments: args });
    };
    box.append(el("fieldset", { "data-tool": tool.name }, [
      el("legend", { text: tool.name }),
      el("p", { class: "muted", text: tool.description || "" }),
      ...fields.map(([name, , input]) => el("label", { class: "row" }, [el("span", { text: name }), input])),
      el("button", { type: "button", id: `tool-${tool.name}`, text: `Call ${tool.name}`, onclick: call }),
    ]));
  }
}

function toolField(tool, name, schema) {
  const type = schema.type || "json";
  const id = `tool-${tool}-${name}`;
  let input;
  if (type === "boolean") input = el("input", { id, type: "checkbox" });
  else if (type === "number" || type === "integer") input = el("input", { id, type: "number", step: type === "integer" ? 1 : "any" });
  else if (type === "string") input = el("input", { id, type: "text", size: 28 });
  else input = el("textarea", { id, placeholder: "JSON" });
  if (schema.default !== undefined && type !== "boolean") input.value = typeof schema.default === "string" ? schema.default : JSON.stringify(schema.default);
  return [name, type, input];
}

// ---- showing answers ----
function showFrame(frame, img, text) {
  if (!frame) return;
  img.dataset.step = String(frame.step_index);
  img.dataset.episode = frame.episode_id;
  if (frame.image) { img.src = frame.image; text.textContent = ""; }
  else if (frame.text !== undefined) { text.textContent = frame.text; img.removeAttribute("src"); }
  else { text.textContent = show(frame.value); img.removeAttribute("src"); }
}

function showObservation(observation) {
  const node = $("observation");
  if (observation && typeof observation === "object" && observation.image) {
    node.replaceChildren(el("img", { src: observation.image, alt: "observation" }));
  } else {
    node.textContent = show(observation);
  }
}

function addRow(table, cells) {
  const body = table.tBodies[0];
  body.prepend(el("tr", {}, cells.map((c) => el("td", { text: c }))));
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
}

function onPlay(event) {
  const m = JSON.parse(event.data);
  if (m.type === "spec") {
    spec = m;
    const version = m.env_version && !m.env_name.endsWith(m.env_version) ? " " + m.env_version : "";
    $("env-name").textContent = m.env_name + version;
    $("action-space").textContent = m.action_space;
    $("render-mode").textContent = m.render_mode || "(renders nothing)";
    $("spec").textContent = show(m);
    actionForm(m.action);
    toolForms(m.tools);
    $("connection").textContent = `connected · ${m.server_version}`;
    document.body.dataset.ready = "1";
  } else if (m.type === "reset") {
    $("session-id").textContent = m.session_id;
    $("watch-session").value = $("watch-session").value || m.session_id;
    showObservation(m.observation);
    $("info").textContent = show(m.info);
    for (const id of ["reward", "terminated", "truncated", "components"]) $(id).textContent = "";
    $("step").textContent = "0";
    $("return").textContent = "0";
    $("done").textContent = "running";
    $("history").tBodies[0].replaceChildren();
    showFrame(m.frame, $("frame"), $("frame-text"));
  } else if (m.type === "step") {
    showObservation(m.observation);
    $("reward").textContent = show(m.reward);
    $("terminated").textContent = String(m.terminated);
    $("truncated").textContent = String(m.truncated);
    $("components").textContent = Object.keys(m.reward_components).length ? show(m.reward_components) : "";
    $("info").textContent = show(m.info);
    $("step").textContent = String(m.step_index);
    $("return").textContent = String(m.episode_return);
    $("done").textContent = m.terminated ? "terminated" : m.truncated ? "truncated" : "running";
    addRow($("history"), [m.step_index, show(m.action), show(m.reward), show(m.reward_components), m.terminated ? "terminated" : m.truncated ? "truncated" : ""]);
    showFrame(m.frame, $("frame"), $("frame-text"));
  } else if (m.type === "tool") {
    const body = m.structured !== null ? show(m.structured) : m.content.join("\n");
    $("tool-result").textContent = `${m.name}${m.is_error ? " (error)" : ""}: ${body}`;
  } else if (m.type === "error") {
    $("error").textContent = `${m.op ? m.op + ": " : ""}${m.code}${m.reason ? " " + m.reason : ""}: ${m.message}`;
  }
  document.body.dataset.answers = String(Number(document.body.dataset.answers || 0) + 1);
}

function connect() {
  play = new WebSocket(wsUrl("/ws/play"));
  play.onmessage = onPlay;
  play.onclose = () => { $("connection").textContent = "disconnected: reload the page"; };
}

// ---- the watch tab ----
function startWatch(event) {
  event.preventDefault();
  stopWatch();
  const id = $("watch-session").value.trim();
  const fps = $("watch-fps").value || "10";
  let steps = 0, total = 0, dropped = 0;
  $("watch-log").tBodies[0].replaceChildren();
  $("watch-error").textContent = "";
  $("watch-status").textContent = "connecting…";
  watcher = new WebSocket(wsUrl(`/ws/watch?session_id=${encodeURIComponent(id)}&fps=${encodeURIComponent(fps)}`));
  watcher.onmessage = (e) => {
    const m = JSON.parse(e.data);
    dropped += m.dropped || 0;
    $("watch-dropped").textContent = String(dropped);
    if (m.type === "start") {
      $("watch-status").textContent = `watching ${m.session_id} · episode ${m.episode_id || "none"} at step ${m.step_count} · ${m.render_mode ? `${m.render_mode}, up to ${m.max_fps} frames/s` : "no render mode: steps only"}`;
    } else if (m.type === "episode_start") {
      addRow($("watch-log"), [m.episode_id.slice(0, 8), "reset", "", "", ""]);
    } else if (m.type === "step") {
      steps += 1;
      total += typeof m.reward === "number" ? m.reward : 0;
      $("watch-steps").textContent = String(steps);
      $("watch-return").textContent = String(total);
      addRow($("watch-log"), [m.episode_id.slice(0, 8), m.step_index, show(m.action), show(m.reward), m.terminated ? "terminated" : m.truncated ? "truncated" : ""]);
    } else if (m.type === "frame") {
      showFrame(m.frame, $("watch-frame"), $("watch-text"));
      document.body.dataset.watchFrames = String(Number(document.body.dataset.watchFrames || 0) + 1);
    } else if (m.type === "end") {
      $("watch-status").textContent = `the session ended: ${m.reason}`;
    } else if (m.type === "error") {
      $("watch-error").textContent = `${m.code}${m.reason ? " " + m.reason : ""}: ${m.message}`;
    }
  };
  watcher.onclose = () => { if ($("watch-status").textContent === "connecting…") $("watch-status").textContent = "not watching"; };
}

function stopWatch() {
  if (watcher) { watcher.close(); watcher = null; $("watch-status").textContent = "not watching"; }
}

function tab(name) {
  $("play").hidden = name !== "play";
  $("watch").hidden = name !== "watch";
  $("tab-play").classList.toggle("active", name === "play");
  $("tab-watch").classList.toggle("active", name === "watch");
}

window.addEventListener("DOMContentLoaded", () => {
  $("reset").addEventListener("click", () => {
    const seed = $("seed").value;
    send({ op: "reset", seed: seed === "" ? null : Number(seed) });
  });
  $("tab-play").addEventListener("click", () => tab("play"));
  $("tab-watch").addEventListener("click", () => tab("watch"));
  $("watch-form").addEventListener("submit", startWatch);
  $("watch-stop").addEventListener("click", stopWatch);
  connect();
});
