// The KB-dashboard: reads /api/dashboard and /api/quality with the user's session (or a pasted token) and draws them.
// No libraries, no third-party requests; a pasted token stays in this tab (sessionStorage) and never in a URL.
"use strict";

const $ = (selector) => document.querySelector(selector);
const nl = (value, digits = 0) => value === null || value === undefined ? "–"
  : Number(value).toLocaleString("nl-NL", { minimumFractionDigits: digits, maximumFractionDigits: digits });
let titles = {};
let labels = {};

/** A pasted token, kept in this tab only (never in a URL or lasting storage); without one, the session cookie. */
function token() {
  return sessionStorage.getItem("kb-token");
}

async function api(path, accept = "application/json") {
  // With a pasted token, the token; otherwise the session cookie of the sign-in.
  const response = await fetch(path, { credentials: "same-origin", headers: { ...(token() ? { Authorization: `Bearer ${token()}` } : {}), Accept: accept } });
  if (!response.ok) {
    let detail = `${response.status}`;
    try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch { /* not JSON */ }
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return response;
}

function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Horizontal bars as HTML rows (the label wraps instead of being cut, and the chart narrows with the screen): rows of
 * { label, value, second?, attributes }; each bar's length is its share of the largest value.
 */
function bars(container, rows, { second } = {}) {
  container.replaceChildren();
  if (rows.length === 0) { container.append(el("p", { class: "muted" }, "Geen gegevens.")); return; }
  const max = Math.max(1, ...rows.flatMap(r => [r.value, r.second ?? 0]));
  const list = el("ul", { class: "bars" });
  for (const r of rows) {
    const item = el("li", r.attributes ?? {});
    const track = el("span", { class: "track" });
    const bar = (value, extra) => {
      const line = el("span", { class: "line" });
      const fill = el("span", { class: `bar ${extra}` });
      fill.style.width = `${Math.max(0.5, (value / max) * 100)}%`;
      line.append(fill, el("span", { class: "value" }, nl(value, r.digits ?? 0)));
      return line;
    };
    track.append(bar(r.value, ""));
    if (second) track.append(bar(r.second ?? 0, "second"));
    item.append(el("span", { class: "name" }, r.label), track);
    list.append(item);
  }
  container.append(list);
  if (second) container.append(el("p", { class: "legend" }, second));
}

function renderDashboard(d) {
  const set = (id, value) => { const n = $(`[data-testid=${id}]`); n.textContent = nl(value); n.dataset.value = value; };
  set("kpi-inBeeld", d.inBeeld);
  set("kpi-inZorg", d.inZorg);
  $("[data-testid=meaning-inBeeld]").textContent = d.inBeeldMeaning ?? "";
  $("[data-testid=meaning-inZorg]").textContent = d.inZorgMeaning ?? "";
  set("kpi-active", d.active);
  set("kpi-completed", d.completed);
  set("kpi-handovers", d.openHandovers.length);
  set("kpi-overdue", d.overdueCount);

  bars($("#states-chart"), d.states.map(s => ({
    label: `${titles[s.pathway] ?? s.pathway} · ${s.label}`, value: s.count,
    attributes: { "data-testid": "state-bar", "data-pathway": s.pathway, "data-state": s.state, "data-count": s.count },
  })));

  $("#cvg-n").textContent = `(${d.cvg.trajectories} lopend${d.cvg.trajectories === 1 ? " traject" : "e trajecten"} met twee metingen)`;
  bars($("#cvg-chart"), d.cvg.trajectories === 0 ? [] : [{
    label: "Gemiddeld CVG", value: d.cvg.start ?? 0, second: d.cvg.latest ?? 0, digits: 1,
    attributes: { "data-testid": "cvg", "data-start": d.cvg.start, "data-latest": d.cvg.latest },
  }], { second: "blauw: bij start · oranje: laatste meting. Dit zijn de lopende trajecten nu; de indicatoren hieronder tellen de trajecten die in de periode zijn afgesloten, en kunnen dus verschillen." });

  const body = $("#overdue tbody");
  body.replaceChildren(...d.overdue.map(i => {
    const row = el("tr", { "data-testid": "overdue-row", "data-trajectory": i.trajectoryId });
    for (const text of [i.patientId, titles[i.pathway] ?? i.pathway, i.stateLabel || i.state, i.deadlineLabel ?? i.nextDeadline ?? "", new Date(i.dueAt).toLocaleDateString("nl-NL"), i.owner])
      row.append(el("td", {}, text));
    return row;
  }));
  $("#overdue-none").hidden = d.overdue.length > 0;

  const day = (at) => at ? new Date(at).toLocaleDateString("nl-NL") : "–";
  $("#mdo tbody").replaceChildren(...d.mdoList.map(i => {
    const row = el("tr", { "data-testid": "mdo-row", "data-trajectory": i.trajectoryId });
    for (const text of [i.patientId, titles[i.pathway] ?? i.pathway, i.stateLabel || i.state, day(i.lastMdo), i.deadlineLabel ?? i.nextDeadline ?? "", day(i.dueAt)])
      row.append(el("td", {}, text));
    return row;
  }));
  $("#mdo-none").hidden = d.mdoList.length > 0;
}

function renderQuality(q) {
  labels = q.labels;
  $("#period-label").textContent = `${new Date(q.from).toLocaleDateString("nl-NL")} t/m ${new Date(q.to).toLocaleDateString("nl-NL")}`;
  const monthly = q.indicators.filter(v => v.month && v.pathway === null && ["instroom", "uitstroom"].includes(v.indicator));
  const months = [...new Set(monthly.map(v => v.month))].sort();
  bars($("#monthly-chart"), months.map(m => ({
    label: new Date(`${m}-01T12:00:00`).toLocaleDateString("nl-NL", { month: "long", year: "numeric" }),
    value: monthly.find(v => v.month === m && v.indicator === "instroom")?.value ?? 0,
    second: monthly.find(v => v.month === m && v.indicator === "uitstroom")?.value ?? 0,
    attributes: { "data-testid": "month-bar", "data-month": m },
  })), { second: "blauw: instroom · oranje: uitstroom" });

  const percent = (id) => id.startsWith("boven") || id.startsWith("kwetsbaar") || id === "terugkoppeling" || id === "doorbraak";
  const cell = (v) => {
    const td = el("td", { class: "num", "data-testid": "indicator", "data-indicator": v.indicator, "data-pathway": v.pathway ?? "",
      "data-group": v.group ?? "", "data-value": v.value ?? "" },
      v.value === null ? "–" : nl(v.value, Number.isInteger(v.value) ? 0 : 1) + (percent(v.indicator) ? " %" : ""));
    if (v.denominator !== null) td.title = v.numerator === null ? `n = ${v.denominator}` : `${v.numerator} van ${v.denominator}`;
    return td;
  };
  const period = q.indicators.filter(v => !v.month);
  const pathways = [...new Set(period.filter(v => v.pathway).map(v => v.pathway))].sort();
  $("#indicators thead").replaceChildren(el("tr"));
  $("#indicators thead tr").append(el("th", {}, "Indicator"), el("th", { class: "num" }, "Alle zorgpaden"),
    ...pathways.map(p => el("th", { class: "num" }, titles[p] ?? p)));
  const plain = Object.keys(labels).filter(id => period.some(v => v.indicator === id && v.group === null));
  $("#indicators tbody").replaceChildren(...plain.map(id => {
    const row = el("tr");
    row.append(el("td", {}, labels[id]));
    for (const pathway of [null, ...pathways]) {
      const v = period.find(x => x.indicator === id && x.pathway === pathway && x.group === null);
      row.append(v ? cell(v) : el("td", { class: "num muted" }, ""));
    }
    return row;
  }));
  $("#grouped tbody").replaceChildren(...period.filter(v => v.group !== null).map(v => {
    const row = el("tr");
    row.append(el("td", {}, labels[v.indicator] ?? v.indicator), el("td", {}, v.group), cell(v));
    return row;
  }));
}

async function load() {
  document.body.dataset.ready = "false";
  $("#error").hidden = true;
  try {
    const period = `from=${$("#from").value}&to=${$("#to").value}`;
    const [pathways, dashboard, quality] = await Promise.all([
      api("/api/pathways").then(r => r.json()), api("/api/dashboard").then(r => r.json()), api(`/api/quality?${period}`).then(r => r.json())]);
    titles = Object.fromEntries(pathways.map(p => [p.id, p.title]));
    renderDashboard(dashboard);
    renderQuality(quality);
    $("#content").hidden = false;
    $("#login").hidden = true;
  } catch (error) {
    if (error.status === 401) { sessionStorage.removeItem("kb-token"); $("#login").hidden = false; $("#content").hidden = true; }
    $("#error").textContent = error.status === 403 ? "Uw rol mag het dashboard niet zien (praktijkmanager of huisarts)." : `Laden mislukt: ${error.message}`;
    $("#error").hidden = false;
  }
  document.body.dataset.ready = "true";
}

async function downloadCsv() {
  const response = await api(`/api/quality?from=${$("#from").value}&to=${$("#to").value}&format=csv`, "text/csv");
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `kwaliteit-${$("#from").value}-${$("#to").value}.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  $("#from").value = `${today.getFullYear()}-01-01`;
  $("#to").value = iso(today);
  $("#period").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("#csv").addEventListener("click", downloadCsv);
  $("#token-form").addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem("kb-token", $("#token").value.trim()); load(); });
  load();
});
