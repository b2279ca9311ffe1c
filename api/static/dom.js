// Building DOM nodes without innerHTML: every piece of data becomes a text node or an attribute
// value, so a rule title or a search string can never be read as markup.

/** An element: h("a", {href: "#/x", class: "c", onclick: fn}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "href") {
      const safe = safeHref(value);
      if (safe !== null) node.setAttribute("href", safe);
    } else if (name === "value" || name === "checked" || name === "selected") {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends children: strings and numbers as text, nodes as they are, arrays flattened. */
export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces every child of a node. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** The href itself for in-page (#...) and http(s) links, else null (no javascript: URLs). */
export function safeHref(value) {
  const text = String(value);
  if (text.startsWith("#")) return text;
  try {
    const url = new URL(text, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A link to a page of this app: route("technique", "T1546.003") -> "#/technique/T1546.003".
 * Parameters that are null, undefined or empty are left out, except an empty `value`: rules
 * check the empty string too (`process.command_line eq ""`), and its pages need it kept.
 */
export function route(view, id, params) {
  let hash = `#/${view}`;
  if (id !== undefined && id !== null) hash += `/${encodeURIComponent(id)}`;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || (value === "" && key !== "value")) continue;
    query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${hash}?${text}` : hash;
}

/**
 * The rules list behind an indicator's corpus reach: the same field, operator, value and
 * polarity, current rules only, so its length is the reach.
 */
export function reachRoute(indicator, negated) {
  return route("rules", null, {
    field: indicator.field.name,
    operator: indicator.operator,
    value: indicator.value,
    negated: String(Boolean(negated)),
  });
}

/** A field's name linked to its page (the keyword pseudo-field `*` too). */
export function fieldLink(name) {
  return h("a", { href: route("field", name), class: "field" }, name);
}

/** The page of one indicator: its reach per vendor, techniques, events and companions. */
export function indicatorRoute(indicator, negated) {
  return route("indicator", null, {
    field: indicator.field.name,
    operator: indicator.operator,
    value: indicator.value,
    negated: negated ? "true" : null,
  });
}

/**
 * "Sigma 3", "Elastic 1"... for the vendors with rules in a byVendor list (none: a dash); with
 * `hrefOf(vendor)`, each chip links to that vendor's rules.
 */
export function vendorChips(byVendor, hrefOf) {
  const chips = byVendor
    .filter((count) => count.ruleCount > 0)
    .map((count) =>
      h(
        hrefOf ? "a" : "span",
        {
          class: `chip vendor-chip vendor-text-${count.vendor.toLowerCase()}`,
          "data-vendor": count.vendor,
          href: hrefOf ? hrefOf(count.vendor) : null,
        },
        `${VENDOR_LABELS[count.vendor]} ${count.ruleCount.toLocaleString("en")}`,
      ),
    );
  // Spaces between the chips, so that their text reads (and copies) as "Sigma 3 Elastic 1".
  return chips.length ? chips.flatMap((chip, i) => (i ? [" ", chip] : [chip])) : "—";
}

/** A link that leaves the app, opened in a new tab. */
export function external(href, ...children) {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "external" }, ...children);
}

/** "1 rule" / "12 rules". */
export function plural(count, word, many) {
  return `${count.toLocaleString("en")} ${count === 1 ? word : many || `${word}s`}`;
}

/** A section with a heading, an optional note and its body. */
export function section(id, title, note, ...body) {
  return h(
    "section",
    { class: "card", id },
    h("h2", {}, title),
    note ? h("p", { class: "note" }, note) : null,
    ...body,
  );
}

/** A table from column headings and rows of cells (each a node, text or {cell, class}). */
export function table(className, headings, rows, rowProps) {
  const head = h("thead", {}, h("tr", {}, headings.map((text) => h("th", {}, text))));
  const body = h(
    "tbody",
    {},
    rows.map((cells, index) =>
      h(
        "tr",
        rowProps ? rowProps(index) : {},
        cells.map((cell) =>
          cell && typeof cell === "object" && "cell" in cell
            ? h("td", { class: cell.class }, cell.cell)
            : h("td", {}, cell),
        ),
      ),
    ),
  );
  return h("table", { class: className }, head, body);
}

/** A value shown as code, with a visible marker for the empty string. */
export function code(value) {
  return value === "" ? h("code", { class: "empty" }, "(empty)") : h("code", {}, breakable(value));
}

/**
 * The text with a line-break opportunity (<wbr>) after each path or name separator, so that a
 * narrow column wraps `c:\windows\system32\…` between its parts and never inside a word such
 * as `process` or `wmic.exe`.
 */
function breakable(text) {
  const parts = text.split(/(?<=[\\/.,;:=_-])/);
  return parts.flatMap((part, i) => (i ? [h("wbr", {}), part] : [part]));
}

/** The vendor enum as people write it. */
export const VENDOR_LABELS = { SIGMA: "Sigma", ELASTIC: "Elastic", SPLUNK: "Splunk" };
export const VENDORS = Object.keys(VENDOR_LABELS);

/** A small badge naming a rule's vendor. */
export function vendorBadge(vendor) {
  return h("span", { class: `vendor vendor-${vendor.toLowerCase()}` }, VENDOR_LABELS[vendor] || vendor);
}

/** A severity badge, or nothing when the rule has none. */
export function severityBadge(severity) {
  if (!severity) return null;
  return h("span", { class: `severity severity-${String(severity).toLowerCase()}` }, severity);
}

// ATT&CK descriptions are markdown: **bold**, [text](url), `code` or <code>, and "* " list items.
const ATTACK_MARK = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]*)\)|<code>([^<]*)<\/code>|`([^`]+)`/g;

/**
 * ATT&CK prose as DOM nodes: bold, links, code and list items drawn, citations dropped.
 *
 * Every piece stays a text node or an attribute (no innerHTML); a link keeps its text and
 * points outwards only for http(s) URLs. Cut after `limit` visible characters.
 */
export function attackMarkdown(text, limit) {
  if (!text) return [];
  const lines = text
    .replace(/\(Citation:[^)]*\)/g, "")
    .split(/\r?\n/)
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .filter(Boolean);
  const nodes = [];
  let left = limit || Infinity;
  const cut = (piece) => {
    if (piece.length <= left) {
      left -= piece.length;
      return piece;
    }
    const part = piece.slice(0, left);
    const space = part.lastIndexOf(" ");
    left = 0;
    return `${space > 0 ? part.slice(0, space) : part}…`;
  };
  for (const raw of lines) {
    if (left <= 0) break;
    const item = /^[*-] /.test(raw);
    const line = item ? raw.slice(2) : raw;
    const parts = [];
    let at = 0;
    for (const match of line.matchAll(ATTACK_MARK)) {
      if (left <= 0) break;
      if (match.index > at) parts.push(cut(line.slice(at, match.index)));
      at = match.index + match[0].length;
      if (left <= 0) break;
      const [, bold, label, url, code, tick] = match;
      if (bold !== undefined) parts.push(h("strong", {}, cut(bold)));
      else if (label !== undefined) {
        const shown = cut(label);
        parts.push(/^https?:\/\//i.test(url) ? external(url, shown) : shown);
      } else parts.push(h("code", {}, cut(code !== undefined ? code : tick)));
    }
    // Stray markers (an unpaired "**") are dropped rather than shown as markdown.
    if (left > 0 && at < line.length) parts.push(cut(line.slice(at).replace(/\*\*/g, "")));
    nodes.push(item ? h("span", { class: "md-item" }, parts) : h("span", { class: "md-line" }, parts));
  }
  return nodes;
}

/**
 * A CSV field, its white space collapsed as on screen: quoted when it holds a comma or a quote.
 * Text a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@` first: `-addstore`, `@subTee` are values rules check) is
 * kept as text with a leading apostrophe.
 */
function csvField(text) {
  let clean = text.replace(/\s+/g, " ").trim();
  if (/^[=+\-@]/.test(clean) && !/^-?\d[\d,.]*$/.test(clean)) clean = `'${clean}`;
  return /[",]/.test(clean) ? `"${clean.replace(/"/g, '""')}"` : clean;
}

/**
 * A "Download CSV" link for a table drawn on the page: at click, its header and the rows shown
 * become a CSV file (the cells' text, as read on screen).
 */
export function csvLink(tableOf, filename) {
  return h(
    "a",
    {
      href: "#",
      class: "csv",
      download: filename,
      onclick: (event) => {
        const table = tableOf();
        if (!table) {
          event.preventDefault();
          return;
        }
        const lines = [...table.querySelectorAll("tr")].map((row) =>
          [...row.querySelectorAll("th, td")].map((cell) => csvField(cell.textContent || "")).join(","),
        );
        const blob = new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv" });
        const url = URL.createObjectURL(blob);
        event.currentTarget.href = url;
        // Kept until the download has read it, then let go.
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      },
    },
    "Download CSV",
  );
}
