// lnaddr operator console: a client of the admin API and nothing more. The token lives in this
// tab's sessionStorage and goes out as "Authorization: Bearer" to this origin only. Every text
// from the API is put in the page with textContent (never innerHTML), so a name, comment or title
// holding HTML shows as text.
"use strict";
(function () {
  var KEY = "lnaddr.console.token";
  var view = document.getElementById("view");
  var nav = document.getElementById("nav");
  var signin = document.getElementById("signin");

  // ---- small helpers ----
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null) continue;
        if (k === "text") node.textContent = attrs[k];
        else if (k === "on") for (var ev in attrs.on) node.addEventListener(ev, attrs.on[ev]);
        else node.setAttribute(k, attrs[k]);
      }
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function sats(msat) {
    if (typeof msat !== "number") return "";
    return (msat % 1000 === 0 ? (msat / 1000).toLocaleString("en") : (msat / 1000).toFixed(3)) + " sat";
  }
  function when(secs) {
    if (typeof secs !== "number") return "";
    return new Date(secs * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }
  function token() { return sessionStorage.getItem(KEY); }

  // One API call: resolves to the parsed body, rejects with Error("HTTP 404: not found").
  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + token() }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 401) { signOut("The token was refused. Sign in again."); throw new Error("HTTP 401: signed out"); }
      if (r.status === 204) return null;
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!r.ok) {
          var reason = data && (data.reason || data.message || data.error) || text || r.statusText;
          if (r.status === 404 && reason === "not found") reason += " (this gateway has no such API route)";
          throw new Error("HTTP " + r.status + ": " + reason);
        }
        return data;
      });
    });
  }
  // A QR code image of `text` (drawn by the server; the text may hold a secret, so it is POSTed).
  function qr(text) {
    var img = el("img", { class: "qr", alt: "QR code" });
    fetch("/console/qr", { method: "POST", headers: { Authorization: "Bearer " + token() }, body: text })
      .then(function (r) { if (!r.ok) throw new Error(); return r.blob(); })
      .then(function (b) { img.src = URL.createObjectURL(b); })
      .catch(function () { img.alt = "QR code unavailable"; });
    return img;
  }
  function errorLine() { return el("p", { class: "error", role: "alert" }); }
  function fail(line) { return function (e) { line.textContent = e.message; }; }
  function table(headers, rows) {
    return el("div", { class: "table" }, el("table", null,
      el("thead", null, el("tr", null, headers.map(function (h) { return el("th", { text: h }); }))),
      el("tbody", null, rows)));
  }
  function cell(label, value, cls) { return el("td", { "data-label": label, class: cls, text: value == null ? "" : value }); }
  function field(label, input) {
    var id = "f-" + Math.random().toString(36).slice(2);
    input.id = id;
    return el("div", null, el("label", { for: id, text: label }), input);
  }
  function secretBox(title, text) {
    return el("div", { class: "secret" }, el("strong", { text: title }),
      el("p", { class: "hint", text: "Shown once: copy it now." }), el("p", { class: "mono", text: text }), qr(text));
  }
  // Only http(s) links from the API become links (never javascript: or data:).
  function webUrl(u) { return typeof u === "string" && /^https?:\/\//i.test(u) ? u : null; }
  function shown(list) { return Array.isArray(list) ? list : []; }

  // ---- sign in and out ----
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    nav.hidden = true;
    view.textContent = "";
    signin.hidden = false;
    document.getElementById("signin-error").textContent = message || "";
  }
  signin.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("token");
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    api("GET", "/api/v1/accounts").then(function () {
      signin.hidden = true;
      nav.hidden = false;
      if (!location.hash) location.hash = "#accounts"; else route();
    }).catch(function (e) {
      if (token()) { signin.hidden = true; nav.hidden = false; route(); }
      else document.getElementById("signin-error").textContent = e.message.indexOf("401") >= 0 ? "Wrong token." : e.message;
    });
  });
  document.getElementById("signout").addEventListener("click", function () { signOut(""); });

  // ---- views ----
  function route() {
    if (!token()) { signOut(""); return; }
    signin.hidden = true;
    nav.hidden = false;
    var hash = decodeURIComponent(location.hash.slice(1));
    var links = nav.querySelectorAll("a");
    for (var i = 0; i < links.length; i++) links[i].className = hash.indexOf(links[i].hash.slice(1)) === 0 ? "on" : "";
    view.textContent = "";
    if (hash.indexOf("account/") === 0) accountView(hash.slice(8));
    else if (hash === "domains") domainsView();
    else if (hash === "zaps") zapsView();
    else if (hash === "webhooks") webhooksView();
    else accountsView();
  }
  window.addEventListener("hashchange", route);

  function accountsView() {
    var err = errorLine();
    var address = el("input", { name: "address", placeholder: "alice@example.com", required: "" });
    var pubkey = el("input", { name: "nostr_pubkey", placeholder: "hex (optional, for zaps)" });
    var create = el("form", { class: "grid", id: "create-account" },
      field("New account address", address), field("Nostr public key", pubkey),
      el("div", null, el("button", { type: "submit", text: "Create account" })));
    create.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { address: address.value.trim() };
      if (pubkey.value.trim()) body.nostr_pubkey = pubkey.value.trim();
      api("POST", "/api/v1/accounts", body).then(function (a) {
        location.hash = "#account/" + encodeURIComponent(a.address);
      }).catch(fail(err));
    });
    var search = el("input", { type: "search", id: "search", placeholder: "Search addresses", "aria-label": "Search addresses" });
    var count = el("p", { class: "hint" });
    var tbody = el("tbody", { id: "accounts" });
    var all = [];
    function draw() {
      var q = search.value.trim().toLowerCase();
      var hits = all.filter(function (a) { return a.address.toLowerCase().indexOf(q) >= 0; });
      tbody.textContent = "";
      hits.slice(0, 500).forEach(function (a) {
        var row = el("tr", { class: "click", "data-address": a.address },
          cell("Address", a.address, "mono"), cell("Balance", sats(a.balance_msat), "num"),
          cell("Zaps", a.nostr_pubkey ? "yes" : ""), cell("Created", when(a.created_at)));
        row.addEventListener("click", function () { location.hash = "#account/" + encodeURIComponent(a.address); });
        tbody.appendChild(row);
      });
      count.textContent = hits.length + " of " + all.length + " accounts" + (hits.length > 500 ? " (first 500 shown)" : "");
    }
    search.addEventListener("input", draw);
    add(view, [
      el("section", { class: "panel" }, el("h2", { text: "Accounts" }), create, err),
      el("section", { class: "panel" }, search, count,
        el("div", { class: "table" }, el("table", null,
          el("thead", null, el("tr", null, ["Address", "Balance", "Zaps", "Created"].map(function (h) { return el("th", { text: h }); }))),
          tbody)))
    ]);
    api("GET", "/api/v1/accounts").then(function (list) { all = shown(list); draw(); }).catch(fail(err));
  }

  function accountView(address) {
    var enc = encodeURIComponent(address);
    var head = el("section", { class: "panel" }, el("h2", null, el("span", { class: "mono", text: address })));
    var err = errorLine();
    add(head, err);
    var ledger = el("section", { class: "panel" }, el("h3", { text: "Ledger" }));
    add(view, [head, voucherPanel(address), lndhubPanel(address), nwcPanel(address), ledger]);
    api("GET", "/api/v1/accounts/" + enc).then(function (a) {
      add(head, [
        el("p", null, "Balance: ", el("strong", { id: "balance", text: sats(a.balance_msat) })),
        a.nostr_pubkey ? el("p", { class: "hint" }, "Nostr key (zaps): ", el("span", { class: "mono", text: a.nostr_pubkey })) : null,
        a.lnurl ? el("details", null, el("summary", { text: "LNURL and QR code" }), el("p", { class: "mono", text: a.lnurl }), qr(a.lnurl)) : null
      ]);
    }).catch(fail(err));
    var lerr = errorLine();
    add(ledger, lerr);
    api("GET", "/api/v1/accounts/" + enc + "/transactions?limit=200").then(function (txs) {
      var rows = shown(txs).map(function (t) {
        var zap = "";
        if (t.zap) zap = "zap" + (t.zap_receipt ? " · receipt " + t.zap_receipt.status : "");
        var from = t.zap_sender || (t.payer_data && (t.payer_data.name || t.payer_data.identifier || t.payer_data.email)) || "";
        var amount = (t.kind === "debit" ? "−" : "+") + sats(t.amount_msat) + (t.fee_msat ? " (fee " + sats(t.fee_msat) + ")" : "");
        return el("tr", null, cell("When", when(t.created_at)), cell("Amount", amount, "num"),
          cell("Status", t.status), cell("Comment", t.comment, "comment"), cell("Tag", t.tag),
          cell("Zap", zap), cell("From", typeof from === "string" ? from : JSON.stringify(from)),
          cell("Hash", t.payment_hash, "mono"));
      });
      add(ledger, rows.length ? table(["When", "Amount", "Status", "Comment", "Tag", "Zap", "From", "Payment hash"], rows)
        : el("p", { class: "hint", text: "No transactions yet." }));
    }).catch(fail(lerr));
  }

  function voucherPanel(address) {
    var err = errorLine();
    var out = el("div");
    var max = el("input", { type: "number", min: "1", step: "1", required: "", name: "max_sat" });
    var min = el("input", { type: "number", min: "1", step: "1", name: "min_sat", placeholder: "same as max" });
    var uses = el("input", { type: "number", min: "1", step: "1", value: "1", name: "uses" });
    var title = el("input", { name: "title", placeholder: "Lightning voucher" });
    var form = el("form", { class: "grid", id: "voucher" }, field("Amount (sat)", max), field("Minimum (sat)", min),
      field("Uses", uses), field("Title", title), el("div", null, el("button", { type: "submit", text: "Create voucher" })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      err.textContent = "";
      var body = { max_msat: Number(max.value) * 1000, uses: Number(uses.value || 1) };
      body.min_msat = min.value ? Number(min.value) * 1000 : body.max_msat;
      if (title.value.trim()) body.title = title.value.trim();
      api("POST", "/api/v1/accounts/" + encodeURIComponent(address) + "/withdraw-links", body).then(function (l) {
        out.textContent = "";
        add(out, el("div", { class: "secret", id: "voucher-result" }, el("strong", { text: "Voucher created" }),
          el("p", null, el("a", { href: webUrl(l.page), target: "_blank", rel: "noopener", id: "voucher-page", text: "Open the printable voucher" })),
          el("p", { class: "mono", text: l.lnurl }), qr(l.lnurl)));
      }).catch(fail(err));
    });
    return el("section", { class: "panel" }, el("h3", { text: "Voucher (LNURL-withdraw)" }), form, err, out);
  }

  function lndhubPanel(address) {
    var enc = encodeURIComponent(address);
    var err = errorLine();
    var out = el("div");
    var list = el("div");
    function load() {
      api("GET", "/api/v1/accounts/" + enc + "/lndhub").then(function (creds) {
        list.textContent = "";
        var rows = shown(creds).map(function (c) {
          var revoke = el("button", { type: "button", class: "danger", text: "Revoke" });
          revoke.addEventListener("click", function () {
            api("DELETE", "/api/v1/lndhub/" + encodeURIComponent(c.login)).then(load).catch(fail(err));
          });
          return el("tr", null, cell("Login", c.login, "mono"), cell("Created", when(c.created_at)), el("td", null, revoke));
        });
        if (rows.length) add(list, table(["Login", "Created", ""], rows));
      }).catch(fail(err));
    }
    var create = el("button", { type: "button", text: "New LndHub credential" });
    create.addEventListener("click", function () {
      err.textContent = "";
      api("POST", "/api/v1/accounts/" + enc + "/lndhub", {}).then(function (c) {
        out.textContent = "";
        add(out, secretBox("LndHub URL for BlueWallet or Zeus", c.url));
        load();
      }).catch(fail(err));
    });
    load();
    return el("section", { class: "panel" }, el("h3", { text: "LndHub" }), create, err, out, list);
  }

  function nwcPanel(address) {
    var enc = encodeURIComponent(address);
    var err = errorLine();
    var out = el("div");
    var list = el("div");
    var name = el("input", { name: "name", placeholder: "My app" });
    var budget = el("input", { type: "number", min: "0", step: "1", name: "budget_sat", placeholder: "no budget" });
    var renewal = el("select", { name: "budget_renewal" },
      ["never", "daily", "weekly", "monthly", "yearly"].map(function (r) { return el("option", { value: r, text: r }); }));
    function load() {
      api("GET", "/api/v1/accounts/" + enc + "/nwc").then(function (conns) {
        list.textContent = "";
        var rows = shown(conns).map(function (c) {
          var revoke = el("button", { type: "button", class: "danger", text: "Revoke" });
          revoke.addEventListener("click", function () {
            api("DELETE", "/api/v1/nwc/" + encodeURIComponent(c.id)).then(load).catch(fail(err));
          });
          var used = c.budget_msat ? sats(c.budget_used_msat || 0) + " of " + sats(c.budget_msat) : "";
          return el("tr", null, cell("Name", c.name), cell("Budget used", used), cell("Client key", c.client_pubkey, "mono"), el("td", null, revoke));
        });
        if (rows.length) add(list, table(["Name", "Budget used", "Client key", ""], rows));
      }).catch(fail(err));
    }
    var form = el("form", { class: "grid" }, field("Name", name), field("Budget (sat)", budget), field("Renewal", renewal),
      el("div", null, el("button", { type: "submit", text: "New NWC connection" })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      err.textContent = "";
      var body = {};
      if (name.value.trim()) body.name = name.value.trim();
      if (budget.value) { body.budget_msat = Number(budget.value) * 1000; body.budget_renewal = renewal.value; }
      api("POST", "/api/v1/accounts/" + enc + "/nwc", body).then(function (c) {
        out.textContent = "";
        add(out, secretBox("Nostr Wallet Connect URI", c.uri));
        load();
      }).catch(fail(err));
    });
    load();
    return el("section", { class: "panel" }, el("h3", { text: "Nostr Wallet Connect" }), form, err, out, list);
  }

  function domainsView() {
    var err = errorLine();
    var out = el("div");
    var list = el("div");
    var name = el("input", { name: "name", placeholder: "example.com", required: "" });
    var url = el("input", { name: "public_url", placeholder: "https://example.com", required: "" });
    var form = el("form", { class: "grid" }, field("Domain", name), field("Public URL", url),
      el("div", null, el("button", { type: "submit", text: "Add domain" })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/domains", { name: name.value.trim(), public_url: url.value.trim() }).then(load).catch(fail(err));
    });
    function load() {
      err.textContent = "";
      api("GET", "/api/v1/domains").then(function (domains) {
        list.textContent = "";
        var rows = shown(domains).map(function (d) {
          var tok = el("button", { type: "button", text: "New domain token" });
          tok.addEventListener("click", function () {
            api("POST", "/api/v1/domains/" + encodeURIComponent(d.name) + "/tokens", {}).then(function (t) {
              out.textContent = "";
              add(out, el("div", { class: "secret" }, el("strong", { text: "Token for " + d.name + " (shown once)" }), el("p", { class: "mono", text: t.token })));
            }).catch(fail(err));
          });
          var limits = (d.min_sendable_msat != null ? sats(d.min_sendable_msat) + " – " + sats(d.max_sendable_msat) : "");
          return el("tr", null, cell("Domain", d.name, "mono"), cell("Public URL", d.public_url, "mono"),
            cell("Limits", limits), cell("Description", d.description), el("td", null, tok));
        });
        add(list, table(["Domain", "Public URL", "Limits", "Description", ""], rows));
      }).catch(fail(err));
    }
    add(view, el("section", { class: "panel" }, el("h2", { text: "Domains" }), form, err, out, list));
    load();
  }

  function zapsView() {
    var err = errorLine();
    var list = el("div");
    var status = el("select", { name: "status" },
      [["", "all"], ["pending", "pending"], ["sent", "published"], ["failed", "failed"]].map(function (o) { return el("option", { value: o[0], text: o[1] }); }));
    function load() {
      err.textContent = "";
      api("GET", "/api/v1/zap-receipts" + (status.value ? "?status=" + status.value : "")).then(function (entries) {
        list.textContent = "";
        var rows = shown(entries).map(function (z) {
          var r = z.receipt || { status: "queued", relays_ok: [], relays_pending: [] };
          var why = shown(r.relays_pending).map(function (p) {
            return p.url + " (" + p.attempts + " tries" + (p.last_error ? ": " + p.last_error : "") + ")";
          }).join("; ");
          return el("tr", null, cell("Paid", when(z.created_at)), cell("Address", z.address, "mono"),
            cell("Amount", sats(z.amount_msat), "num"),
            el("td", { "data-label": "Receipt" }, el("span", { class: "badge " + r.status, text: r.status === "sent" ? "published" : r.status })),
            cell("Accepted by", shown(r.relays_ok).join(", ")), cell("Not yet / why", why), cell("Event", r.event_id, "mono"));
        });
        add(list, rows.length ? table(["Paid", "Address", "Amount", "Receipt", "Accepted by", "Not yet / why", "Event id"], rows)
          : el("p", { class: "hint", text: "No zap receipts." }));
      }).catch(fail(err));
    }
    status.addEventListener("change", load);
    add(view, el("section", { class: "panel" }, el("h2", { text: "Zap receipts" }), field("Show", status), err, list));
    load();
  }

  function webhooksView() {
    var err = errorLine();
    var out = el("div");
    var list = el("div");
    var url = el("input", { name: "url", type: "url", placeholder: "https://shop.example/hooks/lnaddr", required: "" });
    var domain = el("input", { name: "domain", placeholder: "all domains" });
    var events = ["payment.received", "payment.sent", "payment.failed"];
    var boxes = events.map(function (e) { return el("input", { type: "checkbox", value: e, checked: "" }); });
    var form = el("form", { class: "grid" }, field("URL", url), field("Domain", domain),
      el("div", { class: "checks" }, boxes.map(function (b) { return el("label", null, b, b.value); })),
      el("div", null, el("button", { type: "submit", text: "Add webhook" })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { url: url.value.trim(), events: boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }) };
      if (domain.value.trim()) body.domain = domain.value.trim();
      api("POST", "/api/v1/webhooks", body).then(function (w) {
        out.textContent = "";
        add(out, el("div", { class: "secret" }, el("strong", { text: "Signing secret (shown once)" }), el("p", { class: "mono", text: w.secret })));
        load();
      }).catch(fail(err));
    });
    function load() {
      api("GET", "/api/v1/webhooks").then(function (hooks) {
        list.textContent = "";
        var rows = shown(hooks).map(function (w) {
          var del = el("button", { type: "button", class: "danger", text: "Delete" });
          del.addEventListener("click", function () {
            api("DELETE", "/api/v1/webhooks/" + encodeURIComponent(w.id)).then(load).catch(fail(err));
          });
          return el("tr", null, cell("URL", w.url, "mono"), cell("Events", shown(w.events).join(", ")),
            cell("Domain", w.domain || "all"), el("td", null, del));
        });
        add(list, rows.length ? table(["URL", "Events", "Domain", ""], rows) : el("p", { class: "hint", text: "No webhooks." }));
      }).catch(fail(err));
    }
    add(view, el("section", { class: "panel" }, el("h2", { text: "Webhooks" }), form, err, out, list));
    load();
  }

  route();
})();
