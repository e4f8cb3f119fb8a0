// lnaddr public pages. The voucher's Print button; the pay page: ask the LNURL-pay callback
// (LUD-06, LUD-12) for an invoice, show it, and poll LUD-21 verify until it is paid.
// Same origin only; every text goes in with textContent.
"use strict";
(function () {
  var form = document.getElementById("pay");
  var printButtons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < printButtons.length; i++) {
    printButtons[i].addEventListener("click", function () { window.print(); });
  }
  if (!form) return;
  var callback = form.dataset.callback;
  var minMsat = Number(form.dataset.min);
  var maxMsat = Number(form.dataset.max);
  var errorBox = document.getElementById("error");
  var invoiceBox = document.getElementById("invoice");
  var statusLine = document.getElementById("status");
  var prInput = document.getElementById("pr");
  var qr = document.getElementById("invoice-qr");
  var poll = null;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
  function sats(msat) {
    return (msat % 1000 === 0 ? String(msat / 1000) : (msat / 1000).toFixed(3)) + " sat";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    errorBox.hidden = true;
    var raw = form.amount.value.trim();
    if (!/^[0-9]+$/.test(raw)) {
      showError("Enter the amount as a whole number of sats.");
      return;
    }
    var msat = Number(raw) * 1000;
    if (!(msat >= minMsat && msat <= maxMsat)) {
      showError("The amount must be between " + sats(minMsat) + " and " + sats(maxMsat) + ".");
      return;
    }
    var q = "amount=" + msat;
    if (form.comment && form.comment.value) q += "&comment=" + encodeURIComponent(form.comment.value);
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(callback + "?" + q, { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status === "ERROR" || typeof body.pr !== "string") {
          showError(body.reason ? "The gateway refused: " + body.reason : "No invoice came back.");
          return;
        }
        show(body.pr, body.verify);
      })
      .catch(function () { showError("The gateway cannot be reached. Try again."); })
      .finally(function () { button.disabled = false; });
  });

  function show(pr, verify) {
    if (poll) clearTimeout(poll);
    prInput.value = pr;
    qr.src = "/qr.svg?data=" + encodeURIComponent(pr);
    var href = "lightning:" + pr;
    document.getElementById("open").href = href;
    document.getElementById("open-link").href = href;
    statusLine.textContent = "Waiting for payment…";
    statusLine.className = "status";
    invoiceBox.hidden = false;
    form.hidden = true;
    // Same origin: the verify path of the URL the callback gave (its host may be the public URL).
    var path = null;
    try { path = new URL(verify, location.href).pathname; } catch (e) { path = null; }
    if (path) check(path, Date.now() + 3600 * 1000, 1000);
  }

  function check(path, until, delay) {
    if (Date.now() > until) {
      statusLine.textContent = "Not paid yet. Reload the page to try again.";
      return;
    }
    poll = setTimeout(function () {
      fetch(path, { cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (v) {
          if (v.settled === true) {
            statusLine.textContent = "Paid ✓ Thank you!";
            statusLine.className = "status paid";
            document.getElementById("open").hidden = true;
            return;
          }
          check(path, until, Math.min(delay * 1.5, 5000));
        })
        .catch(function () { check(path, until, 5000); });
    }, delay);
  }

  document.getElementById("copy").addEventListener("click", function () {
    var button = this;
    function done() { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(prInput.value).then(done, function () { prInput.select(); });
    } else {
      prInput.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });
})();
