// The POH's workplace: worklist, patient, trajectory with its step forms, and timeline. It uses only the public API
// (the same any HIS can use), with the session cookie the host set at sign-in: no token in the page, a URL or
// browser storage, and no patient id in a URL that reaches a server (routes live after the '#').
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const view = $("#view");
const state = { me: null, pathways: null, details: new Map() };

// ---------- helpers ----------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const dateTime = (value) => value ? new Date(value).toLocaleString("nl-NL", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Amsterdam" }) : "–";
const dateOnly = (value) => value ? new Date(value).toLocaleDateString("nl-NL", { dateStyle: "medium", timeZone: "Europe/Amsterdam" }) : "–";
const number = (value) => value === null || value === undefined ? "–" : Number(value).toLocaleString("nl-NL", { maximumFractionDigits: 2 });

/** "3 dagen te laat" / "over 2 dagen" / "vandaag". */
function due(value) {
  if (!value) return { text: "geen termijn", late: false };
  const days = Math.round((new Date(value) - Date.now()) / 86400000);
  if (new Date(value) <= Date.now()) {
    const late = Math.max(0, -days);
    return { text: late === 0 ? "vandaag verlopen" : `${late} ${late === 1 ? "dag" : "dagen"} te laat`, late: true };
  }
  return { text: days <= 0 ? "vandaag" : `over ${days} ${days === 1 ? "dag" : "dagen"}`, late: false, soon: days <= 7 };
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/** The API with the session cookie. A change carries X-KbPathways: 1 (the host refuses a change by session without it). */
async function api(path, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { Accept: "application/json", "X-KbPathways": "1", ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await response.json(); } catch { /* no body */ }
  if (response.status === 401) { location.href = "/aanmelden"; throw new Error("niet aangemeld"); }
  return { status: response.status, ok: response.ok, body: json };
}

function say(text, problem = false) {
  const message = $("#message");
  message.textContent = text;
  message.className = problem ? "problem" : "";
  message.hidden = !text;
}

/** A problem's reason in Dutch (the host's own details are for developers, in English). */
function reason(problem, status, action) {
  if (status === 422 && problem?.type?.endsWith("/guard-failed"))
    return `De voorwaarde voor deze stap is niet vervuld${action?.condition ? `: ${action.condition}` : "."}`;
  const kinds = {
    400: "Het verzoek klopt niet.", 403: "Uw rol mag dit niet.", 404: "Niet gevonden in uw praktijk.",
    409: "Dit kan niet (meer) in de huidige stap.", 422: "De gegevens kloppen nog niet; zie de velden.",
    429: "Te veel verzoeken; probeer het zo weer.", 503: "Tijdelijk niet beschikbaar; probeer het zo weer.",
  };
  return kinds[status] ?? `Er ging iets mis (foutcode ${status}).`;
}

async function pathways() {
  if (!state.pathways) state.pathways = (await api("/api/pathways")).body ?? [];
  return state.pathways;
}

async function pathway(id) {
  if (!state.details.has(id)) state.details.set(id, (await api(`/api/pathways/${encodeURIComponent(id)}`)).body);
  return state.details.get(id);
}

function roleLabel(detail, role) { return detail?.roleLabels?.[role] ?? role; }

function stateLabels(detail) {
  const labels = {};
  for (const track of detail?.tracks ?? []) for (const s of track.states) labels[s.name] = s.label;
  return labels;
}

function stepLabels(detail) {
  const labels = {};
  for (const track of detail?.tracks ?? [])
    for (const step of [...track.states.flatMap(s => s.steps), ...track.anyState]) labels[step.trigger] = step.label;
  return labels;
}

// ---------- routing ----------

const routes = [
  [/^#\/?$/, () => worklist()],
  [/^#\/werklijst(?:\?(.*))?$/, (m) => worklist(new URLSearchParams(m[1] ?? ""))],
  [/^#\/patient\/([^/]+)$/, (m) => patient(decodeURIComponent(m[1]))],
  [/^#\/traject\/([0-9a-f-]{36})$/, (m) => trajectory(m[1])],
  [/^#\/traject\/([0-9a-f-]{36})\/tijdlijn$/, (m) => timeline(m[1])],
  [/^#\/jaarbespreking$/, () => yearlyReview()],
];

async function route() {
  const hash = location.hash || "#/";
  for (const a of document.querySelectorAll("nav a[data-nav]")) a.removeAttribute("aria-current");
  const match = routes.map(([pattern, render]) => [hash.match(pattern), render]).find(([m]) => m);
  view.setAttribute("aria-busy", "true");
  document.body.dataset.ready = "false";
  try {
    if (match) await match[1](match[0]);
    else view.replaceChildren(el("h1", {}, "Pagina niet gevonden"), el("p", {}, el("a", { href: "#/" }, "Naar de werklijst")));
  } catch (error) {
    view.replaceChildren(el("h1", {}, "Er ging iets mis"), el("p", { class: "problem" }, String(error.message ?? error)));
  } finally {
    view.setAttribute("aria-busy", "false");
    document.body.dataset.ready = "true"; // (the browser tests wait for this)
    performance.mark("kb-ready"); // (the bench measures the time to here)
  }
}

// ---------- werklijst ----------

async function worklist(params = new URLSearchParams()) {
  $("nav a[data-nav=werklijst]").setAttribute("aria-current", "page");
  const scope = params.get("scope") === "alles" ? "alles" : "mijn";
  const filter = { pathway: params.get("zorgpad") ?? "", state: params.get("stap") ?? "", page: Math.max(1, Number(params.get("pagina")) || 1) };
  const query = new URLSearchParams({ scope, page: filter.page, pageSize: 25 });
  if (filter.pathway) query.set("pathway", filter.pathway);
  if (filter.state) query.set("state", filter.state);
  const [list, all] = await Promise.all([api(`/api/worklist?${query}`), pathways()]);
  if (!list.ok) throw new Error(reason(list.body, list.status));
  const detail = filter.pathway ? await pathway(filter.pathway) : null;

  const go = (changes) => {
    const next = new URLSearchParams({ scope, zorgpad: filter.pathway, stap: filter.state, pagina: 1, ...changes });
    for (const [k, v] of [...next]) if (!v || (k === "pagina" && v === "1") || (k === "scope" && v === "mijn")) next.delete(k);
    location.hash = `#/werklijst${next.size ? `?${next}` : ""}`;
  };
  const pathwaySelect = el("select", { id: "filter-pathway", onchange: (e) => go({ zorgpad: e.target.value, stap: "" }) },
    el("option", { value: "" }, "Alle zorgpaden"),
    all.map(p => el("option", { value: p.id, selected: p.id === filter.pathway }, p.title)));
  const stateSelect = el("select", { id: "filter-state", disabled: !detail, onchange: (e) => go({ stap: e.target.value }) },
    el("option", { value: "" }, "Alle stappen"),
    (detail?.tracks ?? []).flatMap(t => t.states).filter(s => !s.final && s.owner)
      .map(s => el("option", { value: s.name, selected: s.name === filter.state }, s.label)));
  const scopeSelect = el("select", { id: "filter-scope", onchange: (e) => go({ scope: e.target.value }) },
    el("option", { value: "mijn", selected: scope === "mijn" }, "Mijn werk (mijn rol)"),
    el("option", { value: "alles", selected: scope === "alles" }, "Alles van de praktijk"));

  await Promise.all([...new Set(list.body.items.map(i => i.pathway))].map(pathway)); // for the role labels
  const pages = Math.max(1, Math.ceil(list.body.total / list.body.pageSize));
  const rows = list.body.items.map(item => {
    const when = due(item.dueAt);
    return el("tr", { "data-testid": "work-item" },
      el("td", { "data-label": "Patiënt" }, el("a", { href: `#/patient/${encodeURIComponent(item.patientId)}` }, item.patientId)),
      el("td", { "data-label": "Zorgpad" }, item.pathwayTitle || item.pathway),
      el("td", { "data-label": "Stap" }, el("a", { href: `#/traject/${item.trajectoryId}` }, item.stateLabel || item.state)),
      el("td", { "data-label": "Wie" }, item.assignedTo
        ? (item.assignedTo === state.me?.user ? "u (toegewezen)" : `${item.assignedTo} (toegewezen)`)
        : roleLabel(state.details.get(item.pathway), item.owner)),
      el("td", { "data-label": "Termijn" }, item.deadlineLabel ?? el("span", { class: "muted" }, "–")),
      el("td", { "data-label": "Uiterlijk" }, item.dueAt ? dateOnly(item.dueAt) : "–", " ",
        el("span", { class: when.late ? "late" : when.soon ? "soon" : "muted" }, `(${when.text})`)));
  });

  view.replaceChildren(
    el("h1", {}, scope === "alles" ? "Werklijst van de praktijk" : "Mijn werklijst"),
    el("div", { class: "filters", role: "group", "aria-label": "Filters" },
      el("label", { for: "filter-scope" }, "Werk", scopeSelect),
      el("label", { for: "filter-pathway" }, "Zorgpad", pathwaySelect),
      el("label", { for: "filter-state" }, "Stap", stateSelect)),
    list.body.total === 0
      ? el("p", { class: "card muted" }, "Geen open werk met deze filters.")
      : el("div", { class: "table" }, el("table", { class: "cards" },
        el("caption", { class: "sr-only" }, "Open werk: verlopen eerst, dan de eerstvolgende termijn"),
        el("thead", {}, el("tr", {}, ["Patiënt", "Zorgpad", "Stap", "Wie", "Termijn", "Uiterlijk"].map(h => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows))),
    el("div", { class: "pager" },
      el("button", { type: "button", class: "secondary", disabled: filter.page <= 1, onclick: () => go({ pagina: filter.page - 1 }) }, "Vorige"),
      el("span", {}, `Pagina ${filter.page} van ${pages} · ${list.body.total} ${list.body.total === 1 ? "item" : "items"}`),
      el("button", { type: "button", class: "secondary", disabled: filter.page >= pages, onclick: () => go({ pagina: filter.page + 1 }) }, "Volgende")));
}

// ---------- jaarbespreking ----------

/**
 * Seed 000: once a year the POH-Kb goes through the Kb-patients with each huisarts. One list per huisarts; tick the
 * patients discussed and record them together (one step per patient, each its own request).
 */
async function yearlyReview() {
  $("nav a[data-nav=jaarbespreking]").setAttribute("aria-current", "page");
  const answer = await api("/api/jaarbespreking");
  if (!answer.ok) throw new Error(reason(answer.body, answer.status));
  const lists = answer.body.lists;
  const section = (list, index) => {
    const id = `lijst-${index}`;
    const rows = list.patients.map(p => el("tr", { "data-testid": "review-patient" },
      el("td", { "data-label": "Besproken" }, p.reviewTrigger && !p.reviewed
        ? el("input", { type: "checkbox", name: "besproken", value: p.trajectoryId, "data-trigger": p.reviewTrigger, "aria-label": `${p.patientId} besproken` })
        : el("span", { class: p.reviewed ? "ok" : "muted" }, p.reviewed ? "✓" : "–")),
      el("td", { "data-label": "Patiënt" }, el("a", { href: `#/patient/${encodeURIComponent(p.patientId)}` }, p.patientId)),
      el("td", { "data-label": "Stap" }, el("a", { href: `#/traject/${p.trajectoryId}` }, p.stateLabel)),
      el("td", { "data-label": "Laatst besproken" }, p.lastReviewed ? dateOnly(p.lastReviewed) : "nog nooit"),
      el("td", { "data-label": "Uiterlijk" }, dateOnly(p.dueBy))));
    const form = el("form", { "data-review": list.huisarts },
      el("div", { class: "table" }, el("table", { class: "cards" },
        el("caption", { class: "sr-only" }, `Kb-patiënten van ${list.huisarts}`),
        el("thead", {}, el("tr", {}, ["Besproken", "Patiënt", "Stap", "Laatst besproken", "Uiterlijk"].map(h => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows))),
      list.done ? null : el("div", { class: "actions" }, el("button", { type: "submit" }, "Aangevinkte patiënten besproken")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const ticked = [...form.querySelectorAll("input[name=besproken]:checked")];
      if (ticked.length === 0) return say("Vink eerst aan wie u besproken heeft.", true);
      document.body.dataset.ready = "false";
      let failed = 0;
      for (const box of ticked) {
        const result = await api(`/api/trajectories/${box.value}/fire`, { method: "POST", body: { trigger: box.dataset.trigger, data: {} }, headers: { "Idempotency-Key": newKey() } });
        if (!result.ok) failed++;
      }
      say(failed === 0 ? `Vastgelegd: ${ticked.length} besproken met ${list.huisarts}.` : `${ticked.length - failed} vastgelegd, ${failed} niet: probeer die opnieuw.`, failed > 0);
      await route();
    });
    return el("section", { "aria-labelledby": id, "data-testid": "review-list" },
      el("h2", { id }, list.huisarts, " ", el("span", { class: `badge ${list.done ? "zorg" : "geen"}` }, list.done ? "besproken" : `${list.reviewed} van ${list.total} besproken`)),
      form);
  };
  view.replaceChildren(
    el("h1", {}, "Jaarbespreking Kb-patiënten"),
    el("p", { class: "muted" }, "Minstens één keer per jaar bespreekt de POH-Kb de Kb-patiënten met hun eigen huisarts; niet besproken eerst."),
    ...(lists.length === 0 ? [el("p", { class: "card muted" }, "Geen Kb-patiënten met een lopend traject.")] : lists.map(section)));
}

// ---------- patiënt ----------

async function patient(id) {
  const [answer, all] = await Promise.all([api(`/api/patients/${encodeURIComponent(id)}`), pathways()]);
  if (!answer.ok && answer.status !== 404) throw new Error(reason(answer.body, answer.status));
  const p = answer.ok ? answer.body : null;
  const status = p?.status ?? "niet in beeld";
  const care = p?.careStatus;
  // Why (seed 000): what in beeld still needs, and until when the last POH-Kb contact keeps the patient in zorg.
  const why = !care ? null
    : care.inZorg ? `Ingekaart; laatste contact POH-Kb ${dateOnly(care.lastContact)}, in zorg tot ${dateOnly(care.contactBefore)} zonder nieuw contact.`
    : [care.missing.length > 0 ? `Voor 'in beeld' nog vastleggen: ${care.missing.join(", ").toLowerCase()}.`
         : !care.inBeeld ? "Geen lopend Kb-traject waarin de POH-Kb de doelgroep, contactpersonen en afspraken vastlegt." : null,
       care.inBeeld && !care.ingekaart ? "Niet ingekaart (geen Kb-markering)." : null,
       care.inBeeld && care.ingekaart ? (care.lastContact ? `Geen actief contact POH-Kb sinds ${dateOnly(care.lastContact)}.` : "Nog geen contact met de POH-Kb vastgelegd.") : null]
      .filter(x => x).join(" ");
  const badge = { "in zorg": "zorg", "in beeld": "beeld" }[status] ?? "geen";
  const titles = Object.fromEntries(all.map(x => [x.id, x.title]));
  await Promise.all((p?.trajectories ?? []).map(t => pathway(t.pathway)));

  const markForm = el("form", { class: "card", "aria-label": p?.kbMarked ? "Kb-markering verwijderen" : "Kb-markering plaatsen" },
    el("h2", {}, p?.kbMarked ? "Kb-markering verwijderen" : "Kb-markering plaatsen (inkaarten)"),
    el("div", { class: "field" }, el("label", { for: "mark-reason" }, "Reden ", el("span", { class: "req", "aria-hidden": "true" }, "*")),
      el("textarea", { id: "mark-reason", required: true, maxlength: 4000 })),
    el("button", { type: "submit" }, p?.kbMarked ? "Markering verwijderen" : "Markering plaatsen"));
  markForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const path = `/api/patients/${encodeURIComponent(id)}/kb-mark${p?.kbMarked ? "/remove" : ""}`;
    const result = await api(path, { method: "POST", body: { reason: $("#mark-reason").value } });
    if (!result.ok) return say(reason(result.body, result.status), true);
    say(p?.kbMarked ? "Kb-markering verwijderd." : "Kb-markering geplaatst.");
    route();
  });

  // The data a pathway needs at the start (start: { requires }) is asked in the same form, for the chosen pathway.
  const startFields = el("div", { "data-start-fields": "" });
  const showStartFields = async () => {
    const detail = await pathway($("#start-pathway").value);
    startFields.replaceChildren(...(detail?.start ?? []).map(f => input(f, undefined, [])));
  };
  const startForm = el("form", { class: "card", "aria-label": "Traject starten" },
    el("h2", {}, "Traject starten"),
    el("div", { class: "field" }, el("label", { for: "start-pathway" }, "Zorgpad"),
      el("select", { id: "start-pathway", required: true, onchange: () => showStartFields() }, all.map(x => el("option", { value: x.id }, x.title)))),
    startFields,
    el("button", { type: "submit" }, "Start traject"));
  startForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const detail = await pathway($("#start-pathway").value);
    const data = collect(startForm, detail?.start ?? []);
    const result = await api("/api/trajectories", { method: "POST", body: { patientId: id, pathway: $("#start-pathway").value, data } });
    if (!result.ok) return say(reason(result.body, result.status), true);
    say("Traject gestart.");
    location.hash = `#/traject/${result.body.id}`;
  });

  view.replaceChildren(
    el("h1", {}, `Patiënt ${id}`),
    el("section", { "aria-label": "Kb-status" },
      el("dl", { class: "facts" },
        el("div", {}, el("dt", {}, "Kb-status"), el("dd", {}, el("span", { class: `badge ${badge}`, "data-testid": "kb-status" }, status),
          why ? el("span", { class: "muted why", "data-testid": "kb-status-why" }, why) : null)),
        el("div", {}, el("dt", {}, "Kb-markering (Kb-ruiter)"), el("dd", {}, p?.kbMarked ? `${p.kbCode} sinds ${dateOnly(p.markedAt)}` : "niet gemarkeerd"))),
      (p?.markHistory?.length ?? 0) === 0 ? null : el("details", {}, el("summary", {}, "Geschiedenis van de markering"),
        el("ul", { "data-testid": "mark-history" }, p.markHistory.map(m => el("li", {},
          `${dateTime(m.at)}: ${m.placed ? `geplaatst (${m.code})` : "verwijderd"} door ${m.actor.userId} (${m.actor.role}) — ${m.reason}`))))),
    el("section", {},
      el("h2", {}, "Trajecten"),
      (p?.trajectories?.length ?? 0) === 0 ? el("p", { class: "muted" }, "Nog geen trajecten.")
        : el("ul", {}, p.trajectories.map(t => el("li", {},
          el("a", { href: `#/traject/${t.id}` }, t.pathwayTitle || (titles[t.pathway] ?? t.pathway)), " — ",
          t.stateLabel || t.state,
          t.completed ? el("span", { class: "muted" }, " (afgesloten)") : "")))),
    el("section", {},
      el("h2", {}, "Meetinstrumenten: eerste en laatste score"),
      (p?.observations?.length ?? 0) === 0 ? el("p", { class: "muted" }, "Nog niets gemeten.")
        : el("div", { class: "table" }, el("table", {},
          el("thead", {}, el("tr", {}, ["Instrument", "Eerste", "Laatste", "Verschil"].map(h => el("th", { scope: "col" }, h)))),
          el("tbody", {}, p.observations.map(o => el("tr", { "data-testid": `observation-${o.instrument}` },
            el("td", {}, o.instrument.toUpperCase()),
            el("td", {}, `${number(o.firstTotal)} (${dateOnly(o.firstAt)})`),
            el("td", {}, `${number(o.latestTotal)} (${dateOnly(o.latestAt)})`),
            el("td", {}, o.firstTotal !== null && o.latestTotal !== null ? number(o.latestTotal - o.firstTotal) : "–"))))))),
    markForm, startForm);
  await showStartFields();
}

// ---------- traject ----------

async function trajectory(id, keep) {
  const answer = await api(`/api/trajectories/${id}`);
  if (!answer.ok) throw new Error(reason(answer.body, answer.status));
  const t = answer.body;
  const detail = await pathway(t.pathway);
  const labels = stateLabels(detail);

  const diagram = (detail?.tracks ?? []).map(track => {
    const current = t.tracks[track.name];
    const next = new Set(t.actions.filter(a => a.track === track.name).flatMap(a => a.targets.map(x => x.state)));
    return el("div", {},
      el("h3", {}, track.label === "main" || track.name === "main" ? "Hoofdspoor" : track.label),
      el("ol", { class: "diagram", "aria-label": `Stappen van ${track.name === "main" ? "het hoofdspoor" : track.label}` },
        track.states.map(s => el("li", {
          class: [s.final ? "final" : "", next.has(s.name) && s.name !== current ? "next" : ""].join(" ").trim() || null,
          "aria-current": s.name === current ? "step" : null, title: s.description ?? null,
        }, s.label))));
  });

  const actions = t.actions.length === 0
    ? el("p", { class: "muted" }, t.completed ? "Dit traject is afgesloten." : "U kunt nu geen stap zetten in dit traject (uw rol heeft hier geen stap).")
    : el("div", { class: "actions" }, t.actions.map(a => el("button", {
      type: "button", class: "secondary", "data-trigger": a.trigger,
      onclick: () => openForm(t, a),
    }, a.label)));

  view.replaceChildren(
    el("p", {}, el("a", { href: `#/patient/${encodeURIComponent(t.patientId)}` }, `← Patiënt ${t.patientId}`)),
    el("h1", {}, `${detail?.title ?? t.pathway}: ${t.stateLabel}`),
    el("section", { "aria-label": "Stand van zaken" },
      el("dl", { class: "facts" },
        Object.entries(t.trackStateLabels).map(([track, label]) =>
          el("div", {}, el("dt", {}, track === "main" ? "Huidige stap" : (detail?.tracks.find(x => x.name === track)?.label ?? track)),
            el("dd", { "data-testid": `state-${track}` }, label))),
        el("div", {}, el("dt", {}, "Status"), el("dd", {}, t.completed ? `afgesloten (${t.outcome})` : "lopend")),
        el("div", {}, el("dt", {}, "Zorgpadversie"), el("dd", {}, `${t.definitionVersion} (${t.definitionHash.slice(0, 12)})`))),
      el("h3", {}, "Termijnen"),
      t.deadlines.length === 0 ? el("p", { class: "muted" }, "Geen lopende termijnen.")
        : el("ul", {}, t.deadlines.map(d => {
          const when = due(d.dueAt);
          return el("li", {}, `${d.label}: ${dateTime(d.dueAt)} `, el("span", { class: when.late ? "late" : "muted" }, `(${when.text})`));
        })),
      el("p", {}, el("a", { href: `#/traject/${t.id}/tijdlijn` }, "Tijdlijn: wat er gebeurde en waarom"))),
    el("section", {}, el("h2", {}, "Zorgpad"), diagram),
    el("section", { id: "steps" }, el("h2", {}, "Wat kunt u nu doen?"), actions, el("div", { id: "form-slot" })));
  if (keep) {
    const action = t.actions.find(a => a.trigger === keep.trigger);
    if (action) openForm(t, action, keep.values);
  }
}

/** The form of one step, built from its description; submitting fires it with an Idempotency-Key and expectedVersion. */
function openForm(t, action, values = {}) {
  const slot = $("#form-slot");
  const key = newKey();
  const form = el("form", { class: "step", novalidate: true, "aria-labelledby": "form-title", "data-form": action.trigger });
  form.append(el("h2", { id: "form-title" }, action.label));
  if (action.condition) form.append(el("p", { class: "muted" }, `Voorwaarde: ${action.condition}`));
  if (action.targets.length > 1) form.append(el("p", { class: "muted" }, `Gaat naar: ${action.targets.map(x => x.label).join(" of ")} (afhankelijk van de gegevens)`));
  else if (action.targets.length === 1) form.append(el("p", { class: "muted" }, `Gaat naar: ${action.targets[0].label}`));
  const warned = new Set(action.warnings.flatMap(w => w.requires));
  for (const field of action.fields) form.append(input(field, values[field.name], warned.has(field.name) ? action.warnings.filter(w => w.requires.includes(field.name)) : []));
  if (action.fields.length === 0) form.append(el("p", {}, "Deze stap vraagt geen gegevens."));
  const problem = el("div", { class: "problem", role: "alert", hidden: true });
  form.append(problem,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, `${action.label} vastleggen`),
      el("button", { type: "button", class: "secondary", onclick: () => slot.replaceChildren() }, "Annuleren")));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    if (submit.disabled) return; // a double click acts once
    try { await send(submit); } finally { document.body.dataset.ready = "true"; }
  });

  async function send(submit) {
    for (const f of form.querySelectorAll(".field.invalid")) f.classList.remove("invalid");
    for (const f of form.querySelectorAll(".field .error")) f.remove();
    problem.hidden = true;
    const data = collect(form, action.fields);
    submit.disabled = true;
    let result;
    try {
      result = await api(`/api/trajectories/${t.id}/fire`, {
        method: "POST", body: { trigger: action.trigger, data, expectedVersion: t.streamVersion }, headers: { "Idempotency-Key": key },
      });
    } catch (error) {
      submit.disabled = false;
      problem.textContent = "De verbinding viel weg; uw invoer staat er nog. Probeer het opnieuw (de stap wordt niet dubbel gezet).";
      problem.hidden = false;
      return;
    }
    submit.disabled = false;
    if (result.ok) {
      say(`Vastgelegd: ${action.label}.`);
      await trajectory(t.id);
      $("#view").focus();
      return;
    }
    if (result.status === 409) {
      say("Iemand anders heeft dit traject intussen gewijzigd. De pagina is bijgewerkt; uw invoer staat er nog.", true);
      await trajectory(t.id, { trigger: action.trigger, values: snapshot(form) });
      if (!$(`form[data-form="${action.trigger}"]`)) say("Iemand anders heeft dit traject intussen gewijzigd; deze stap kan nu niet meer. De pagina is bijgewerkt.", true);
      return;
    }
    if (result.status === 422 && result.body?.errors) {
      let first = null;
      for (const [name, messages] of Object.entries(result.body.errors)) {
        const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`) ?? form.querySelector(`[data-field="${CSS.escape(name.split(".")[0])}"]`)
          ?? form.querySelector(`[data-field="${CSS.escape(name.split("[")[0])}"]`);
        if (!box) continue;
        box.classList.add("invalid");
        const error = el("span", { class: "error", id: `error-${name.replace(/\W/g, "-")}` }, messages.map(dutch).join(" "));
        box.append(error);
        const control = box.querySelector("input, textarea, select");
        control?.setAttribute("aria-describedby", error.id);
        first ??= control;
      }
      problem.textContent = reason(result.body, 422, action);
      problem.hidden = false;
      (first ?? problem).focus?.();
      return;
    }
    problem.textContent = reason(result.body, result.status, action);
    problem.hidden = false;
  }
  slot.replaceChildren(form);
  form.querySelector("input, textarea, select, button")?.focus();
}

/** The host's field messages in Dutch. */
function dutch(message) {
  return message
    .replace(/^is required: /, "Verplicht: ")
    .replace(/^is required$/, "Verplicht.")
    .replace(/^must be between (.+) and (.+)$/, "Moet tussen $1 en $2 liggen.")
    .replace(/^must be a whole number$/, "Moet een geheel getal zijn.")
    .replace(/^must be a number$/, "Moet een getal zijn.")
    .replace(/^must be true or false$/, "Kies ja of nee.")
    .replace(/^must be a date \(yyyy-mm-dd\)$/, "Moet een datum zijn.")
    .replace(/^must be one of: .*$/, "Kies een van de opties.")
    .replace(/^must be text$/, "Moet tekst zijn.")
    .replace(/^is required: what was decided$/, "Vul in wat er besloten is.")
    .replace(/^must be one of the roles: .*$/, "Kies wie het oppakt.")
    .replace(/^must be a list of 1 to (\d+) decisions.*$/, "Leg minstens één besluit vast (hoogstens $1).");
}

function input(field, value, warnings) {
  const id = `f-${field.name}`;
  const box = el("div", { class: "field", "data-field": field.name });
  const required = field.required ? el("span", { class: "req", title: "verplicht" }, " *") : null;
  const help = [field.help ? el("span", { class: "help", id: `${id}-help` }, field.help) : null,
    ...warnings.map(w => el("p", { class: "warning" }, `Alleen nodig als geldt: ${w.message}`))].filter(Boolean);
  const describedBy = field.help ? `${id}-help` : null;
  switch (field.type) {
    case "boolean": {
      box.append(el("fieldset", {}, el("legend", {}, field.label, required),
        el("div", { class: "choices" },
          [["true", "Ja"], ["false", "Nee"]].map(([v, label]) => el("label", {},
            el("input", { type: "radio", name: field.name, value: v, checked: value === (v === "true") }), label)))), ...help);
      return box;
    }
    case "enum": {
      const options = field.options ?? [];
      if (options.length <= 5) {
        box.append(el("fieldset", {}, el("legend", {}, field.label, required),
          el("div", { class: "choices" }, options.map(o => el("label", {},
            el("input", { type: "radio", name: field.name, value: o.value, checked: value === o.value }), o.label)))), ...help);
      } else {
        box.append(el("label", { for: id }, field.label, required),
          el("select", { id, name: field.name, "aria-describedby": describedBy },
            el("option", { value: "" }, "— kies —"), options.map(o => el("option", { value: o.value, selected: value === o.value }, o.label))), ...help);
      }
      return box;
    }
    case "list":
      box.append(el("fieldset", {}, el("legend", {}, field.label, required),
        el("div", { class: "choices" }, (field.options ?? []).map(o => el("label", {},
          el("input", { type: "checkbox", name: field.name, value: o.value, checked: (value ?? []).includes(o.value) }), o.label)))), ...help);
      return box;
    case "questionnaire":
      box.append(questionnaire(field, value ?? {}, required), ...help);
      return box;
    case "decisions":
      box.append(decisions(field, value ?? [], required), ...help);
      return box;
    case "text":
      box.append(el("label", { for: id }, field.label, required),
        el("textarea", { id, name: field.name, maxlength: field.maxLength ?? 4000, "aria-describedby": describedBy }, value ?? ""), ...help);
      return box;
    default: {
      const type = field.type === "date" ? "date" : "number";
      box.append(el("label", { for: id }, field.label, required, field.unit ? el("span", { class: "unit" }, ` (${field.unit})`) : null),
        el("input", {
          id, name: field.name, type, value: value ?? "", "aria-describedby": describedBy,
          min: field.min ?? null, max: field.max ?? null, step: field.type === "integer" ? 1 : field.type === "decimal" ? "any" : null,
          inputmode: field.type === "integer" ? "numeric" : field.type === "decimal" ? "decimal" : null,
        }), ...help);
      return box;
    }
  }
}

/** An MDO's besluiten: a row per besluit (what, who, by when), rows added and removed as the meeting goes. */
function decisions(field, values, required) {
  const set = el("fieldset", { "data-decisions": field.name }, el("legend", {}, field.label, required));
  const rows = el("ol", { class: "decisions" });
  const add = (d = {}) => {
    const n = rows.children.length;
    const row = el("li", { class: "decision", "data-field": `${field.name}[${n}]` },
      el("label", {}, "Besluit", el("textarea", { name: "besluit", rows: 2, maxlength: 4000 }, d.besluit ?? "")),
      el("label", {}, "Eigenaar", el("select", { name: "eigenaar" }, el("option", { value: "" }, "— kies —"),
        (field.options ?? []).map(o => el("option", { value: o.value, selected: d.eigenaar === o.value }, o.label)))),
      el("label", {}, "Uiterlijk", el("input", { type: "date", name: "datum", value: d.datum ?? "" })),
      el("button", { type: "button", class: "link", onclick: () => { row.remove(); renumber(); } }, "Verwijderen"));
    rows.append(row);
  };
  const renumber = () => [...rows.children].forEach((row, i) => row.dataset.field = `${field.name}[${i}]`);
  for (const d of values.length ? values : [{}]) add(d);
  set.append(rows, el("button", { type: "button", class: "secondary", "data-add": field.name, onclick: () => add() }, "Besluit toevoegen"));
  return set;
}

function collectDecisions(set) {
  return [...set.querySelectorAll("li.decision")].map(row => {
    const d = {};
    for (const name of ["besluit", "eigenaar", "datum"]) {
      const value = row.querySelector(`[name="${name}"]`).value;
      if (value !== "") d[name] = value;
    }
    return d;
  }).filter(d => Object.keys(d).length > 0);
}

/** A questionnaire: each item as its own input, and the score as you answer (scored as the host scores it). */
function questionnaire(field, values, required) {
  const q = field.questionnaire;
  const set = el("fieldset", { "data-questionnaire": field.name }, el("legend", {}, field.label, required));
  for (const item of q.items) {
    const itemField = { ...item, name: `${field.name}.${item.name}`, required: item.required, help: null };
    set.append(input(itemField, values[item.name], []));
  }
  if (q.scored) {
    const score = el("p", { class: "score", "aria-live": "polite", "data-testid": `score-${field.name}` });
    const update = () => {
      const answers = collectQuestionnaire(set, q);
      let total = 0;
      const dims = {};
      for (const item of q.items) {
        const answer = answers[item.name];
        if (answer === undefined || answer === null || !item.scoring) continue;
        let points = 0;
        if (item.scoring.kind === "value") points = Number(answer);
        else if (item.scoring.kind === "table") points = item.scoring.points[String(answer)] ?? 0;
        else if (item.scoring.kind === "bands") points = (item.scoring.bands.find(b => (b.min === null || answer >= b.min) && (b.max === null || answer <= b.max))?.points) ?? 0;
        total += points;
        if (item.dimension) dims[item.dimension] = (dims[item.dimension] ?? 0) + points;
      }
      const reached = q.thresholds.filter(th => {
        const s = th.dimension ? (dims[th.dimension] ?? 0) : total;
        return (th.atLeast === null || s >= th.atLeast) && (th.atMost === null || s <= th.atMost);
      }).map(th => th.label);
      score.textContent = `Score: ${number(total)}${reached.length ? ` — ${reached.join(", ")}` : ""}`;
    };
    set.addEventListener("input", update);
    set.addEventListener("change", update);
    set.append(score);
    update();
  }
  return set;
}

function collectQuestionnaire(set, q) {
  const answers = {};
  for (const item of q.items) {
    const value = readField(set, `${set.dataset.questionnaire}.${item.name}`, item.type);
    if (value !== undefined) answers[item.name] = value;
  }
  return answers;
}

/** A field's value as the API takes it; undefined when left empty. */
function readField(root, name, type) {
  if (type === "boolean") {
    const checked = root.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
    return checked ? checked.value === "true" : undefined;
  }
  if (type === "list") return [...root.querySelectorAll(`input[name="${CSS.escape(name)}"]:checked`)].map(c => c.value);
  if (type === "enum") {
    const checked = root.querySelector(`input[name="${CSS.escape(name)}"]:checked`) ?? root.querySelector(`select[name="${CSS.escape(name)}"]`);
    return checked && checked.value !== "" ? checked.value : undefined;
  }
  const control = root.querySelector(`[name="${CSS.escape(name)}"]`);
  if (!control || control.value === "") return undefined;
  if (type === "integer" || type === "decimal") return control.value === "" ? undefined : Number(control.value);
  return control.value;
}

function collect(form, fields) {
  const data = {};
  for (const field of fields) {
    const value = field.type === "questionnaire"
      ? collectQuestionnaire(form.querySelector(`[data-questionnaire="${CSS.escape(field.name)}"]`), field.questionnaire)
      : field.type === "decisions" ? collectDecisions(form.querySelector(`[data-decisions="${CSS.escape(field.name)}"]`))
      : readField(form, field.name, field.type);
    if (field.type === "decisions" && value.length === 0 && !field.required) continue;
    if (field.type === "questionnaire" && Object.keys(value).length === 0 && !field.required) continue;
    if (field.type === "list" && value.length === 0 && !field.required) continue;
    if (value !== undefined) data[field.name] = value;
  }
  return data;
}

/** What the user typed, to put back after a reload. */
function snapshot(form) {
  const fields = [...form.querySelectorAll("[data-field]")].map(b => b.dataset.field).filter(n => !n.includes(".") && !n.includes("["));
  const values = {};
  for (const name of new Set(fields)) {
    const decided = form.querySelector(`[data-decisions="${CSS.escape(name)}"]`);
    if (decided) { values[name] = collectDecisions(decided); continue; }
    const set = form.querySelector(`[data-questionnaire="${CSS.escape(name)}"]`);
    if (set) {
      const answers = {};
      for (const control of set.querySelectorAll("[name]")) {
        const item = control.name.split(".")[1];
        if (control.type === "radio") { if (control.checked) answers[item] = control.value === "true" ? true : control.value === "false" ? false : control.value; }
        else if (control.value !== "") answers[item] = control.type === "number" ? Number(control.value) : control.value;
      }
      values[name] = answers;
      continue;
    }
    const controls = [...form.querySelectorAll(`[name="${CSS.escape(name)}"]`)];
    if (controls[0]?.type === "checkbox") values[name] = controls.filter(c => c.checked).map(c => c.value);
    else if (controls[0]?.type === "radio") {
      const checked = controls.find(c => c.checked);
      if (checked) values[name] = checked.value === "true" ? true : checked.value === "false" ? false : checked.value;
    } else if (controls[0] && controls[0].value !== "") values[name] = controls[0].type === "number" ? Number(controls[0].value) : controls[0].value;
  }
  return values;
}

// ---------- tijdlijn ----------

async function timeline(id) {
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const [history, now] = await Promise.all([api(`/api/trajectories/${id}/history`), api(`/api/trajectories/${id}`)]);
  if (!history.ok) throw new Error(reason(history.body, history.status));
  const t = now.body;
  const detail = await pathway(t.pathway);
  const states = stateLabels(detail), steps = stepLabels(detail);
  const fieldLabels = Object.fromEntries([...(detail?.fields ?? []).map(f => [f.name, f]),
    ...(detail?.instruments ?? []).map(q => [q.name, { name: q.name, label: q.label, questionnaire: q }])]);
  const asOfInput = el("input", { type: "datetime-local", id: "as-of" });
  const list = el("ol", { class: "timeline", "data-testid": "timeline" });
  const asOfState = el("p", { "aria-live": "polite" });

  const render = async () => {
    const asOf = asOfInput.value ? new Date(asOfInput.value) : null;
    const entries = history.body.filter(e => !asOf || new Date(e.time) <= asOf);
    list.replaceChildren(...entries.map(e => entry(e, states, steps, fieldLabels, detail)));
    if (asOf) {
      const then = await api(`/api/trajectories/${id}?asOf=${encodeURIComponent(asOf.toISOString())}`);
      asOfState.textContent = then.ok ? `Zoals het was op ${dateTime(asOf)}: ${then.body.stateLabel}` : "Het traject bestond toen nog niet.";
    } else asOfState.textContent = `Nu: ${t.stateLabel}`;
  };
  asOfInput.addEventListener("change", render);
  view.replaceChildren(
    el("p", {}, el("a", { href: `#/traject/${id}` }, "← Terug naar het traject")),
    el("h1", {}, `Tijdlijn — ${detail?.title ?? t.pathway}, patiënt ${t.patientId}`),
    el("div", { class: "filters" }, el("label", { for: "as-of" }, "Zoals het was op", asOfInput),
      el("button", { type: "button", class: "secondary", onclick: () => { asOfInput.value = ""; render(); } }, "Nu")),
    asOfState, list);
  if (params.get("op")) asOfInput.value = params.get("op");
  await render();
}

const eventTitles = {
  TrajectoryStarted: "Traject gestart", DeadlineScheduled: "Termijn gezet", TrajectoryCompleted: "Einde van het traject",
  TrajectoryMigrated: "Naar een nieuwe zorgpadversie", TrajectoryErased: "Gegevens gewist",
};

function entry(e, states, steps, fieldLabels, detail) {
  const title = e.type === "StepTaken" ? (steps[e.trigger] ?? e.trigger) : (eventTitles[e.type] ?? e.type);
  const facts = [];
  const fact = (label, value) => facts.push(el("dt", {}, label), el("dd", {}, value));
  if (e.actor) fact("Door", e.actor.user === "system" ? "het systeem (termijn)" : `${e.actor.user} (${roleLabel(detail, e.actor.role)})`);
  if (e.type === "StepTaken") {
    fact("Van → naar", e.from === e.to ? `${states[e.from] ?? e.from} (blijft)` : `${states[e.from] ?? e.from} → ${states[e.to] ?? e.to}`);
    if (e.track && e.track !== "main") fact("Spoor", detail?.tracks.find(x => x.name === e.track)?.label ?? e.track);
  } else if (e.to) fact(e.type === "DeadlineScheduled" ? "Bij stap" : "Stap", states[e.to] ?? e.to);
  if (e.type === "DeadlineScheduled" && e.decision) fact("Verloopt op", dateTime(e.decision.dueAt));
  if (e.type === "TrajectoryCompleted" && e.decision) fact("Uitkomst", e.decision.outcome);
  for (const [name, value] of Object.entries(e.data ?? {})) fact(fieldLabels[name]?.label ?? name, show(fieldLabels[name], value));
  const warnings = (e.warnings ?? []).map(w => el("p", { class: "warning" }, `Waarschuwing: ${w.message}`));
  const why = e.type === "StepTaken" && Array.isArray(e.decision) && e.decision.length
    ? el("details", {}, el("summary", {}, "Waarom"), el("ul", { class: "why" },
      e.decision.map(d => el("li", {}, `${d.result ? "✓" : "✗"} ${d.condition}${d.actual !== null && d.actual !== undefined ? ` (was: ${d.actual})` : ""}`))))
    : null;
  return el("li", { "data-type": e.type },
    el("strong", {}, title), " ", el("span", { class: "when" }, dateTime(e.time)),
    facts.length ? el("dl", {}, facts) : null, warnings, why);
}

function show(field, value) {
  if (value === null || value === undefined) return "–";
  if (field?.questionnaire) {
    const items = Object.fromEntries(field.questionnaire.items.map(i => [i.name, i]));
    const answers = Object.entries(value);
    if (field.questionnaire.items.length === 1 && answers.length === 1) return show(items[answers[0][0]], answers[0][1]); // a CVG: the mark itself
    return answers.map(([k, v]) => `${items[k]?.label ?? k}: ${show(items[k], v)}`).join("; ");
  }
  const option = (v) => field?.options?.find(o => o.value === v)?.label ?? v;
  if (field?.type === "decisions" && Array.isArray(value))
    return el("ol", {}, value.map(d => el("li", {}, `${d.besluit} — ${option(d.eigenaar)}, uiterlijk ${dateOnly(d.datum)}`)));
  if (Array.isArray(value)) return value.map(option).join(", ");
  if (value === true) return "ja";
  if (value === false) return "nee";
  if (field?.type === "date") return dateOnly(value);
  return String(option(value));
}

// ---------- start ----------

async function start() {
  const me = await api("/api/me");
  if (!me.ok) return;
  state.me = me.body;
  $("#me-name").textContent = me.body.name ?? me.body.user;
  $("#me-role").textContent = `${me.body.roles.join(", ")} · ${me.body.practice}`;
  $("#dashboard-link").hidden = !me.body.roles.some(r => r === "praktijkmanager" || r === "huisarts");
  $("#find").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("#find-id").value.trim();
    if (id) location.hash = `#/patient/${encodeURIComponent(id)}`;
  });
  window.addEventListener("hashchange", () => { say(""); route(); });
  await route();
}

start();
