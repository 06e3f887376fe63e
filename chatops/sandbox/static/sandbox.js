// The chatops sandbox page: polls the server for the channel, the feeds and the open modal,
// and sends clicks, modal submissions, slash commands and customers' comments to it.
// No framework and no build step: the server renders HTML, this script swaps it in.
"use strict";

(function () {
  const body = document.body;
  const state = { user: body.dataset.user, channel: body.dataset.channel, modal: null, lastChannel: "", feeds: {} };
  const channelPane = document.getElementById("channel");
  const overlay = document.getElementById("modal-overlay");
  const confirmDialog = document.getElementById("confirm");

  async function send(url, data, asForm) {
    const headers = { "X-Sandbox": "1" };
    let payload;
    if (asForm) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      payload = new URLSearchParams(data).toString();
    } else {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(data);
    }
    const response = await fetch(url, { method: "POST", headers: headers, body: payload });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    answer.status = response.status;
    return answer;
  }

  function flash(message) {
    const note = document.createElement("div");
    note.className = "flash";
    note.setAttribute("role", "alert");
    note.textContent = message;
    document.body.appendChild(note);
    setTimeout(function () { note.remove(); }, 6000);
  }

  // -- refreshing -------------------------------------------------------------------------

  function busyIn(element) {
    const active = document.activeElement;
    return active && element.contains(active) && active.matches("select, input, textarea");
  }

  async function refresh() {
    const query = new URLSearchParams({ user: state.user, channel: state.channel });
    let data;
    try {
      const response = await fetch("/fragment?" + query.toString(), { cache: "no-store" });
      if (!response.ok) { return; }
      data = await response.json();
    } catch (e) {
      return; // the sandbox is stopping or restarting: try again on the next tick
    }
    const openMenu = channelPane.querySelector(".bk-overflow-menu:not([hidden])");
    if (data.channel !== state.lastChannel && !busyIn(channelPane) && !openMenu) {
      // A channel shown afresh opens at its newest message, as Slack's does; later, the pane follows
      // new messages only while the reader is at the bottom (not while they read older ones).
      const atBottom = !state.lastChannel ||
        channelPane.scrollHeight - channelPane.scrollTop - channelPane.clientHeight < 40;
      channelPane.innerHTML = data.channel;
      state.lastChannel = data.channel;
      if (atBottom) { channelPane.scrollTop = channelPane.scrollHeight; }
    }
    for (const [channel, count] of Object.entries(data.counts || {})) {
      const link = document.querySelector('.channel-link[data-channel="' + CSS.escape(channel) + '"] .count');
      if (link) { link.textContent = count ? String(count) : ""; }
    }
    for (const [key, html] of Object.entries(data.feeds || {})) {
      const feed = document.querySelector('[data-feed="' + CSS.escape(key) + '"]');
      if (feed && state.feeds[key] !== html) { feed.innerHTML = html; state.feeds[key] = html; }
    }
    showModal(data.modal);
    if (data.script) { document.querySelector(".script-status").textContent = data.script; }
  }

  // -- modals ------------------------------------------------------------------------------

  function showModal(modal) {
    if (!modal) {
      if (state.modal) { overlay.hidden = true; overlay.innerHTML = ""; state.modal = null; }
      return;
    }
    if (state.modal && state.modal.id === modal.id && state.modal.hash === modal.hash) { return; }
    overlay.innerHTML = modal.html;
    overlay.hidden = false;
    state.modal = { id: modal.id, hash: modal.hash };
    const form = overlay.querySelector("form");
    if (form) {
      form.dataset.viewId = modal.id;
      const first = form.querySelector("input, textarea, select");
      if (first) { first.focus(); }
    }
  }

  function showErrors(form, answer) {
    // The server sends the form back drawn with the errors under their fields and what was typed.
    const holder = document.createElement("div");
    holder.innerHTML = answer.html || "";
    const again = holder.querySelector("form");
    if (!again) { return; }
    again.dataset.viewId = form.dataset.viewId;
    form.replaceWith(again);
    const error = again.querySelector('[data-testid="field-error"]');
    const block = error ? error.closest("[data-block-id]") : null;
    const control = block ? block.querySelector("input, textarea, select") : null;
    if (control) { control.focus(); }
  }

  overlay.addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = event.target;
    // A double click on the submit button sends the modal once (Slack's client does the same).
    if (form.dataset.sending) { return; }
    form.dataset.sending = "1";
    const fields = new FormData(form);
    fields.append("user", state.user);
    let answer;
    try {
      answer = await send("/views/" + encodeURIComponent(form.dataset.viewId) + "/submit", fields, true);
    } finally {
      delete form.dataset.sending;
    }
    if (answer.status !== 200) { flash(answer.error || "the bot refused it"); return; }
    if (answer.errors && Object.keys(answer.errors).length) { showErrors(form, answer); return; }
    state.modal = null;
    overlay.hidden = true;
    overlay.innerHTML = "";
    refresh();
  });

  overlay.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-modal-close]");
    if (!button || !overlay.contains(button)) { return; }
    event.preventDefault();
    const form = button.closest("form");
    const answer = await send("/views/" + encodeURIComponent(form.dataset.viewId) + "/close", { user: state.user });
    if (answer.status !== 200) { flash(answer.error || "could not close"); }
    state.modal = null;
    overlay.hidden = true;
    overlay.innerHTML = "";
    refresh();
  });

  // -- clicks on messages -------------------------------------------------------------------

  function confirmFirst(confirm) {
    if (!confirm) { return Promise.resolve(true); }
    const text = function (obj, fallback) { return (obj && obj.text) || fallback; };
    document.getElementById("confirm-title").textContent = text(confirm.title, "Are you sure?");
    document.getElementById("confirm-text").textContent = text(confirm.text, "");
    const yes = document.getElementById("confirm-yes");
    const no = document.getElementById("confirm-deny");
    yes.textContent = text(confirm.confirm, "Yes");
    no.textContent = text(confirm.deny, "Cancel");
    yes.className = confirm.style === "danger" ? "danger" : "primary";
    return new Promise(function (resolve) {
      function done(answer) {
        yes.removeEventListener("click", onYes);
        no.removeEventListener("click", onNo);
        confirmDialog.close();
        resolve(answer);
      }
      function onYes() { done(true); }
      function onNo() { done(false); }
      yes.addEventListener("click", onYes);
      no.addEventListener("click", onNo);
      confirmDialog.showModal();
    });
  }

  async function act(element, selected) {
    let action;
    try { action = JSON.parse(element.dataset.action); } catch (e) { return; }
    const message = element.closest("[data-ts]");
    if (!message) { flash("Buttons on messages only you can see are not supported in the sandbox."); return; }
    if (!(await confirmFirst(action.confirm))) { return; }
    if (element.dataset.url) { window.open(element.dataset.url, "_blank", "noopener"); }
    const data = {
      user: state.user, channel: message.dataset.channel, ts: message.dataset.ts,
      block_id: action.block_id, action_id: action.action_id,
    };
    if (selected !== undefined) { data.selected = selected; }
    const answer = await send("/actions", data);
    if (answer.status !== 200) { flash(answer.error || "the bot refused it"); }
    refresh();
  }

  channelPane.addEventListener("click", function (event) {
    const toggle = event.target.closest(".bk-overflow-toggle");
    if (toggle) {
      const menu = toggle.parentElement.querySelector(".bk-overflow-menu");
      if (menu) {
        menu.hidden = !menu.hidden;
        toggle.setAttribute("aria-expanded", String(!menu.hidden));
      }
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button) { return; }
    const menu = button.closest(".bk-overflow-menu");
    let selected;
    if (menu) {
      menu.hidden = true;
      const action = JSON.parse(button.dataset.action);
      selected = action.selected_option ? action.selected_option.value : undefined;
    }
    act(button, selected);
  });

  channelPane.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-action]");
    if (select && select.value) { act(select, select.value).then(function () { select.blur(); }); }
  });

  // -- who, where, and the message box ---------------------------------------------------

  const switcher = document.getElementById("user-switcher");
  switcher.addEventListener("change", function () {
    state.user = switcher.value;
    const option = switcher.selectedOptions[0];
    document.getElementById("role").textContent = option ? option.dataset.role : "";
    state.lastChannel = "";
    state.modal = null;
    overlay.hidden = true;
    overlay.innerHTML = "";
    refresh();
  });

  document.querySelectorAll(".channel-link").forEach(function (link) {
    link.addEventListener("click", function () {
      document.querySelectorAll(".channel-link").forEach(function (l) { l.classList.remove("active"); });
      link.classList.add("active");
      state.channel = link.dataset.channel;
      document.getElementById("channel-title").textContent = link.firstChild.textContent.trim();
      state.lastChannel = "";
      refresh();
    });
  });

  document.getElementById("composer-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const input = document.getElementById("composer");
    const text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    const answer = await send("/commands", { user: state.user, channel: state.channel, text: text });
    if (answer.status !== 200) { flash(answer.error || "the bot refused it"); input.value = text; }
    refresh();
  });

  // -- the customers -----------------------------------------------------------------------

  document.getElementById("customers").addEventListener("submit", async function (event) {
    const form = event.target.closest(".customer-form");
    if (!form) { return; }
    event.preventDefault();
    const error = form.querySelector(".form-error");
    const button = form.querySelector('button[type="submit"]');
    error.textContent = "";
    button.disabled = true;
    try {
      const answer = await send("/customers/" + encodeURIComponent(form.dataset.key) + "/posts", {
        author: form.elements.author.value, text: form.elements.text.value, reply_to: form.elements.reply_to.value,
      });
      if (answer.status === 201) {
        form.elements.text.value = "";
        answering(form, null);
      } else {
        error.textContent = answer.error || "not posted";
      }
    } finally {
      button.disabled = false;
    }
    refresh();
  });

  // "Follow up" under a comment: the next post from that form goes under it, as its customer.
  function answering(form, button) {
    const note = form.querySelector(".answering");
    form.elements.reply_to.value = button ? button.dataset.postId : "";
    note.hidden = !button;
    note.textContent = "";
    if (!button) { return; }
    form.elements.author.value = button.dataset.author;
    note.append("Following up the comment by " + button.dataset.author + " ");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "cancel-follow-up";
    cancel.textContent = "Write a new comment instead";
    note.append(cancel);
    form.elements.text.focus();
  }

  document.getElementById("customers").addEventListener("click", function (event) {
    const follow = event.target.closest("button.follow-up");
    const cancel = event.target.closest("button.cancel-follow-up");
    const section = event.target.closest(".customer");
    if (!section || !(follow || cancel)) { return; }
    answering(section.querySelector(".customer-form"), follow);
  });

  async function play(script) {
    const status = document.querySelector(".script-status");
    status.textContent = "Playing…";
    const answer = await send("/script", { script: script });
    status.textContent = answer.status === 202 ? answer.text : (answer.error || "not available");
  }
  document.getElementById("play-script").addEventListener("click", function () { play("day"); });
  document.getElementById("play-crisis").addEventListener("click", function () { play("crisis"); });

  setInterval(refresh, 1000);
  refresh();
})();
