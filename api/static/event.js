// One catalog event: the rules that need it, the techniques they detect, and the techniques
// ATT&CK's detection strategies read it for.

import { gql } from "./api.js";
import { h, plural, route, section, table, VENDOR_LABELS, VENDORS } from "./dom.js";

const COUNTS = VENDORS.map(
  (vendor) => `${vendor.toLowerCase()}: rules(eventId: $id, vendor: ${vendor}, first: 1) { totalCount }`,
).join("\n  ");

const EVENT = `
query EventPage($id: String!) {
  event(id: $id) {
    id name provider channel eventId platform ruleCount
    techniqueUsage(first: 50) { ruleCount technique { id name } } techniqueCount
    attackTechniques(first: 200) { analytics ruleCount technique { id name } }
    attackTechniqueCount noRuleCount: attackTechniqueCount(noRule: true)
  }
  ${COUNTS}
}`;

/** Renders #/event/ID. */
export async function eventView(id, _params, signal) {
  const data = await gql(EVENT, { id: id || "" }, signal);
  const event = data.event;
  if (!event) {
    return h(
      "div",
      { class: "event-page", "data-title": "Unknown event" },
      h("h1", {}, "Unknown event"),
      h("p", { class: "error-text", id: "event-unknown" }, `The catalog has no event “${id || ""}”.`),
    );
  }
  const facts = [
    ["provider", event.provider],
    ["channel", event.channel],
    ["event id", event.eventId],
    ["platform", event.platform],
  ].filter(([, value]) => value);
  return h(
    "div",
    { class: "event-page", "data-title": `${event.id} ${event.name}` },
    h("h1", {}, h("span", { class: "tid" }, event.id), " ", event.name),
    facts.length ? h("p", { class: "muted", id: "event-facts" }, facts.map(([k, v], i) => [i ? " · " : "", `${k} ${v}`])) : null,
    h(
      "p",
      { class: "summary" },
      h("a", { href: route("rules", null, { event: event.id }), id: "event-rules" }, plural(event.ruleCount, "current rule")),
      event.ruleCount === 1 ? " observes it" : " observe it",
      event.ruleCount
        ? [": ", VENDORS.map((v, i) => [i ? ", " : "", h("span", { class: `vendor-count vendor-text-${v.toLowerCase()}`, "data-vendor": v }, `${VENDOR_LABELS[v]} ${data[v.toLowerCase()].totalCount.toLocaleString("en")}`)])]
        : ".",
    ),
    h(
      "div",
      { class: "grid" },
      section(
        "event-techniques",
        `Techniques its rules detect (${event.techniqueCount.toLocaleString("en")})`,
        "Current techniques of the current rules observing it, most rules first.",
        ...techniqueList(event),
      ),
      attackSection(event),
    ),
  );
}

const MORE = `
query EventTechniques($id: String!, $offset: Int!) {
  event(id: $id) { techniqueUsage(first: 200, offset: $offset) { ruleCount technique { id name } } }
}`;

/** The first techniques, a button that brings the rest, and a link to plan collection. */
function techniqueList(event) {
  if (!event.techniqueUsage.length) {
    return [h("p", { class: "muted" }, "No current rule observing it is tagged with a technique.")];
  }
  const item = ({ ruleCount, technique: t }) =>
    h(
      "li",
      { "data-technique": t.id },
      h("a", { href: route("technique", t.id) }, t.id),
      ` ${t.name} `,
      h("a", { class: "muted rule-count", href: route("rules", null, { technique: t.id, event: event.id }) }, plural(ruleCount, "rule")),
    );
  const list = h("ol", { class: "similar" }, event.techniqueUsage.map(item));
  const plan = h(
    "p",
    { class: "muted" },
    h("a", { href: route("collect", null, { events: event.id }), id: "event-collect" }, "What to collect beside it"),
    " to detect more.",
  );
  const rest = event.techniqueCount - event.techniqueUsage.length;
  if (rest <= 0) return [list, plan];
  const button = h("button", { type: "button", class: "more", id: "event-techniques-more" }, `Show all ${event.techniqueCount.toLocaleString("en")}`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    let offset = list.children.length;
    try {
      while (offset < event.techniqueCount) {
        const data = await gql(MORE, { id: event.id, offset });
        const page = data.event.techniqueUsage;
        if (!page.length) break;
        page.forEach((t) => list.append(item(t)));
        offset += page.length;
      }
      button.remove();
    } catch (error) {
      // Said beside the button, which stays for another try.
      button.disabled = false;
      button.nextElementSibling?.classList.contains("error-text") && button.nextElementSibling.remove();
      button.after(h("span", { class: "error-text" }, ` Could not load them: ${error.message}`));
    }
  });
  return [list, button, plan];
}

function attackSection(event) {
  const uses = event.attackTechniques;
  const rows = uses.map((use) => [
    h("a", { href: route("technique", use.technique.id) }, use.technique.id),
    use.technique.name,
    use.analytics.join(", "),
    {
      cell: use.ruleCount
        ? h("a", { href: route("rules", null, { technique: use.technique.id, event: event.id }) }, String(use.ruleCount))
        : "0",
      class: use.ruleCount ? "num hit" : "num miss",
    },
  ]);
  const total = event.attackTechniqueCount;
  return section(
    "event-attack",
    `ATT&CK reads it for (${total.toLocaleString("en")})`,
    "Techniques whose ATT&CK detection strategies read this event, with how many of each " +
      "technique's rules observe it: 0 means ATT&CK uses this log for the technique, but none of " +
      "the technique's rules reads it." +
      (total ? ` ${event.noRuleCount} of ${total} have no such rule.` : "") +
      (uses.length < total ? ` The first ${uses.length} by id are shown.` : ""),
    rows.length
      ? table("data event-attack", ["technique", "name", "analytics", "its rules"], rows, (i) => ({ "data-technique": uses[i].technique.id }))
      : h("p", { class: "muted" }, "No ATT&CK analytic names this event."),
  );
}
