/* 效能告诫 (office/warnings): propose for the quarter, issue or decline with a reason. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var message = Dom.$("warnings-message");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(Dom.apiMessage(data.error && data.error.message));
        return data;
      });
    });
  }

  function failed(err) {
    message.className = "message error";
    message.textContent = err.message;
  }

  var propose = Dom.$("warnings-propose");
  if (propose) {
    propose.addEventListener("click", function () {
      propose.disabled = true;
      post("/api/v1/halls/" + propose.dataset.hall + "/warnings/propose", {
        period: propose.dataset.period,
      })
        .then(function (rows) {
          message.className = "message";
          message.textContent = t("新提出或更新告诫建议 %(n)s 条", { n: rows.length });
          window.setTimeout(function () { window.location.reload(); }, 600);
        })
        .catch(function (err) {
          propose.disabled = false;
          failed(err);
        });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-decide]");
    if (!button) return;
    var row = button.closest("tr");
    var reason = row.querySelector(".warning-reason").value.trim();
    if (!reason) {
      failed(new Error(t("请填写理由")));
      return;
    }
    button.disabled = true;
    post("/api/v1/warnings/" + row.dataset.id + "/" + button.dataset.decide, { reason: reason })
      .then(function () { window.location.reload(); })
      .catch(function (err) {
        button.disabled = false;
        failed(err);
      });
  });
})();
