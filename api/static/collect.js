// Log collection planning: what the rules detect with the events you collect, and what to add.

import { gql } from "./api.js";
import { h, plural, route, section, table, VENDOR_LABELS, VENDORS } from "./dom.js";

const PAGE = `
query Collection($events: [String!]!, $platform: String, $steps: Int!, $vendors: [Vendor!],
                 $withPlatform: Boolean!) {
  collection(eventIds: $events, vendors: $vendors) {
    events { id name } unknownEventIds ruleCount techniqueCount reachableRuleCount reachableTechniqueCount
    platformTechniqueCount(platform: $platform) @include(if: $withPlatform)
    next(first: 15, platform: $platform) {
      newTechniqueCount newRuleCount techniqueCount event { id name }
      newTechniques(first: 5) { id name }
    }
    plan(steps: $steps, platform: $platform) {
      newTechniqueCount newRuleCount techniqueCount ruleCount event { id name }
    }
  }
}`;

const FIND = `
query FindEvent($search: String!) { events(search: $search, first: 12) { id name ruleCount } }`;

/** Platforms offered for suggestions: the log sources' products with most rules. */
const PLATFORMS = ["windows", "linux", "macos", "aws", "azure", "gcp", "m365", "okta", "github", "kubernetes", "zeek"];

const PLAN_STEPS = 10;

/** The vendors of the route (none: every vendor), for the links that keep them. */
let chosenVendors = [];

/** The route for this page with `events`, `platform` and the vendors chosen. */
function collectRoute(events, platform, vendors = chosenVendors) {
  return route("collect", null, { events: events.join(","), platform, vendors: vendors.join(",") });
}

/** Renders #/collect?events=sysmon:1,windows-security:4688&platform=windows&vendors=ELASTIC. */
export async function collectView(_id, params, signal) {
  const events = (params.get("events") || "").split(",").map((e) => e.trim()).filter(Boolean);
  const platform = (params.get("platform") || "").trim().toLowerCase();
  chosenVendors = (params.get("vendors") || "").split(",").map((v) => v.trim().toUpperCase()).filter((v) => VENDORS.includes(v));
  const vendors = chosenVendors.length ? chosenVendors : null;
  const data = await gql(
    PAGE,
    { events, platform: platform || null, steps: PLAN_STEPS, vendors, withPlatform: Boolean(platform) },
    signal,
  );
  const c = data.collection;
  const share = c.reachableTechniqueCount ? Math.round((100 * c.techniqueCount) / c.reachableTechniqueCount) : 0;
  const without = (id) => collectRoute(events.filter((e) => e !== id), platform);
  const adding = (id) => collectRoute([...events, id], platform);
  return h(
    "div",
    { class: "collect-page", "data-title": "Log collection" },
    h("h1", {}, "Log collection"),
    h(
      "p",
      { class: "note" },
      "Which techniques can the catalog’s rules detect with the events you collect, and which event to collect next? " +
        "A rule can fire when one of the events it observes is collected; a technique is detectable when one of its current rules can fire.",
    ),
    collected(c, without, events, platform),
    finder(events, platform),
    paste(events, platform),
    c.unknownEventIds.length
      ? h("p", { class: "error-text", id: "collect-unknown" }, `Not catalog events (ignored): ${c.unknownEventIds.join(", ")}.`)
      : null,
    h(
      "p",
      { class: "summary", id: "collect-summary" },
      `${c.ruleCount.toLocaleString("en")} of the ${c.reachableRuleCount.toLocaleString("en")} current `,
      vendors ? `${vendors.map((v) => VENDOR_LABELS[v]).join(" and ")} ` : "",
      "rules that observe a catalog event can fire; ",
      `they detect ${plural(c.techniqueCount, "technique")} of the ${c.reachableTechniqueCount.toLocaleString("en")} those rules could (${share}%)`,
      platform
        ? `, and of the ${c.platformTechniqueCount.toLocaleString("en")} they could with every ${platform} event (${
            c.platformTechniqueCount ? Math.round((100 * c.techniqueCount) / c.platformTechniqueCount) : 0
          }%).`
        : ".",
    ),
    h("div", { class: "meter", role: "img", "aria-label": `${share}% of the detectable techniques` }, h("span", { style: `width: ${share}%` })),
    platformControl(events, platform),
    nextCard(c, adding),
    planCard(c, events, platform),
  );
}

function collected(c, without, events, platform) {
  const chips = c.events.map(({ id, name }) =>
    h(
      "span",
      { class: "chip event-chip", "data-event": id },
      h("a", { href: route("event", id), title: name }, id),
      " ",
      h("a", { class: "remove", href: without(id), title: `stop collecting ${id}`, "aria-label": `remove ${id}` }, "×"),
    ),
  );
  return h(
    "div",
    { class: "collected", id: "collect-events" },
    h("strong", {}, "Events collected: "),
    chips.length ? chips.flatMap((chip, i) => (i ? [" ", chip] : [chip])) : h("span", { class: "muted" }, "none yet; add one below, or follow the plan."),
    events.length ? [" ", h("a", { href: collectRoute([], platform), id: "collect-clear" }, "clear")] : null,
  );
}

/** A search box for events: typing lists matching events, each a link that adds it. */
function finder(events, platform) {
  const results = h("div", { class: "finder-results", id: "collect-found" });
  let timer = null;
  const input = h("input", {
    id: "collect-search",
    type: "search",
    placeholder: "Add an event: sysmon, 4688, cloudtrail…",
    "aria-label": "find an event to add",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => find(input.value.trim(), results, events, platform), 200);
    },
  });
  return h("form", { class: "controls", onsubmit: (event) => event.preventDefault() }, input, results);
}

/** A box to paste a whole inventory of event ids (commas, spaces or one per line). */
function paste(events, platform) {
  const box = h("textarea", {
    id: "collect-paste",
    rows: 3,
    placeholder: "sysmon:1, sysmon:3\nwindows-security:4688",
    "aria-label": "event ids to collect",
  });
  const add = h(
    "button",
    {
      type: "button",
      id: "collect-paste-add",
      onclick: () => {
        const pasted = box.value.split(/[\s,;]+/).map((id) => id.trim()).filter(Boolean);
        if (pasted.length) window.location.hash = collectRoute([...new Set([...events, ...pasted])], platform);
      },
    },
    "Collect these",
  );
  return h("details", { class: "paste" }, h("summary", {}, "Paste an inventory of event ids"), box, " ", add);
}

/** Searches in flight: an answer to an older one than the last is dropped. */
let searches = 0;

async function find(text, results, events, platform) {
  const asked = ++searches;
  if (text.length < 2) {
    results.replaceChildren();
    return;
  }
  let found;
  try {
    ({ events: found } = await gql(FIND, { search: text }));
    if (asked !== searches) return;
  } catch (error) {
    if (asked !== searches) return;
    results.replaceChildren(h("span", { class: "error-text" }, `The search failed: ${error.message}`));
    return;
  }
  results.replaceChildren(
    ...(found.length
      ? found.map((e) =>
          h(
            "a",
            {
              class: `found${events.includes(e.id) ? " taken" : ""}`,
              href: events.includes(e.id) ? null : collectRoute([...events, e.id], platform),
              "data-event": e.id,
            },
            h("span", { class: "tid" }, e.id),
            ` ${e.name} `,
            h("span", { class: "muted" }, plural(e.ruleCount, "rule")),
          ),
        )
      : [h("span", { class: "muted" }, `No event matches “${text}”.`)]),
  );
}

function platformControl(events, platform) {
  const boxes = VENDORS.map((vendor) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        name: "collect-vendor",
        value: vendor,
        checked: !chosenVendors.length || chosenVendors.includes(vendor),
        onchange: () => {
          const picked = [...document.querySelectorAll("input[name=collect-vendor]:checked")].map((box) => box.value);
          // All ticked, or none (nothing to count), is every vendor.
          const vendors = picked.length === VENDORS.length || !picked.length ? [] : picked;
          window.location.hash = collectRoute(events, platform, vendors);
        },
      }),
      ` ${VENDOR_LABELS[vendor]}`,
    ),
  );
  return h(
    "form",
    { class: "controls", onsubmit: (event) => event.preventDefault() },
    h("span", { class: "group" }, "Rules of ", boxes),
    h(
      "label",
      {},
      "Suggest events of ",
      h(
        "select",
        { id: "collect-platform", onchange: (event) => (window.location.hash = collectRoute(events, event.target.value)) },
        h("option", { value: "", selected: platform === "" }, "any platform"),
        PLATFORMS.map((name) => h("option", { value: name, selected: platform === name }, name)),
      ),
    ),
  );
}

function nextCard(c, adding) {
  const rows = c.next.map((gain) => [
    { cell: h("a", { href: route("event", gain.event.id) }, gain.event.id), class: "event-id" },
    gain.event.name,
    { cell: `+${gain.newTechniqueCount.toLocaleString("en")}`, class: "num techniques" },
    { cell: `+${gain.newRuleCount.toLocaleString("en")}`, class: "num rules" },
    gain.newTechniques.map((t, i) => [i ? ", " : "", h("a", { href: route("technique", t.id), title: t.name }, t.id)]),
    h("a", { href: adding(gain.event.id), class: "add" }, "add"),
  ]);
  return section(
    "collect-next",
    "Collect next",
    "Each event on its own: the techniques it would make detectable, then the rules that could fire.",
    rows.length
      ? table("data collect-next", ["event", "name", "techniques", "rules", "first new techniques", ""], rows, (i) => ({ "data-event": c.next[i].event.id }))
      : h("p", { class: "muted" }, "No other event lets another rule fire."),
  );
}

function planCard(c, events, platform) {
  let taken = [...events];
  const rows = c.plan.map((step, i) => {
    taken = [...taken, step.event.id];
    const share = c.reachableTechniqueCount ? Math.round((100 * step.techniqueCount) / c.reachableTechniqueCount) : 0;
    return [
      { cell: String(i + 1), class: "num" },
      { cell: h("a", { href: route("event", step.event.id) }, step.event.id), class: "event-id" },
      step.event.name,
      { cell: `+${step.newTechniqueCount.toLocaleString("en")}`, class: "num techniques" },
      { cell: step.techniqueCount.toLocaleString("en"), class: "num total" },
      { cell: `${share}%`, class: "num" },
      { cell: step.ruleCount.toLocaleString("en"), class: "num rules" },
      { cell: h("a", { href: collectRoute(taken, platform), class: "take" }, i ? `take 1–${i + 1}` : "take 1"), class: "nowrap" },
    ];
  });
  return section(
    "collect-plan",
    `A plan of ${plural(c.plan.length, "step")}`,
    "Each step adds the event that makes the most techniques detectable given the events before it.",
    rows.length
      ? table("data collect-plan", ["step", "event", "name", "techniques", "then", "share", "rules then", ""], rows, (i) => ({ "data-event": c.plan[i].event.id }))
      : h("p", { class: "muted" }, "No event adds a technique: the rules detect all they can."),
  );
}
