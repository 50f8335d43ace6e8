/* Office pages of the accountability area: 暗访 (record, photos, visit plan), 差评整改 and
 * 申诉, 星级评定 (view, publish, settings). Everything goes through the JSON API with the
 * session cookie and the CSRF header (app.js: api(), flash(), t()).
 */
import { $, apiMessage, el, t } from "./dom.js";
import { api, flash, showError } from "./app.js";

var initNode = document.getElementById("acc-init");
if (initNode) start();

function start() {
  var init = JSON.parse(initNode.textContent);
  function num(x) { return x == null ? "—" : String(Math.round(x * 10) / 10); }
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  // -- 暗访 -------------------------------------------------------------------------------
  var insForm = $("inspection-form");
  if (insForm) {
    var templates = {};
    init.templates.forEach(function (t) { templates[t.code] = t; });
    var renderItems = function () {
      var t = templates[$("ins-template").value];
      var body = $("ins-items").querySelector("tbody");
      body.textContent = "";
      t.items.forEach(function (item) {
        var tr = el("tr");
        tr.appendChild(el("td", null, item.name + "（" + num(item.max_points) + "）"));
        tr.appendChild(el("td", null, item.description || ""));
        var td = el("td");
        var input = el("input");
        input.type = "number"; input.min = "0"; input.max = String(item.max_points); input.step = "0.5";
        input.value = String(item.max_points); input.name = "score:" + item.code; input.required = true;
        input.setAttribute("aria-label", item.name);
        td.appendChild(input); tr.appendChild(td); body.appendChild(tr);
      });
      total();
    };
    var total = function () {
      var sum = 0;
      insForm.querySelectorAll("input[name^='score:']").forEach(function (i) { sum += Number(i.value) || 0; });
      $("ins-total").textContent = num(sum);
    };
    var photos = $("ins-photos");
    var showPhotos = function () {
      var names = Array.prototype.map.call(photos.files, function (f) { return f.name; });
      $("ins-photo-names").textContent = names.length ? names.join("、") : t("未选择照片");
    };
    photos.addEventListener("change", showPhotos);
    $("ins-template").addEventListener("change", renderItems);
    insForm.addEventListener("input", total);
    renderItems();
    insForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var f = new FormData(insForm);
      var scores = {};
      insForm.querySelectorAll("input[name^='score:']").forEach(function (i) { scores[i.name.slice(6)] = Number(i.value); });
      var body = {
        window: Number(f.get("window")), staff: f.get("staff") || null,
        visited_at: f.get("visited_at") + ":00", template: f.get("template"),
        scores: scores, notes: String(f.get("notes") || "").trim(),
      };
      var out = $("ins-result");
      out.className = "acc-result";
      try {
        var saved = await api("POST", "/api/v1/inspections", body);
        var files = insForm.querySelector("input[type=file]").files;
        for (var i = 0; i < files.length; i++) {
          var data = new FormData();
          data.append("photo", files[i]);
          var r = await fetch("/api/v1/inspections/" + saved.id + "/photos", {
            method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
          });
          if (!r.ok) {
            var err = await r.json().catch(function () { return null; });
            flash((files[i].name + "：") + (err && err.error ? apiMessage(err.error.message) : r.status), "error");
          }
        }
        out.textContent = t("已保存：得分 %(t)s/%(m)s", { t: num(saved.total), m: num(saved.max_total) });
        photos.value = "";
        showPhotos();
        await refreshRecent();
        if (saved.notice) {
          out.className = "acc-result bad";
          out.textContent += t("，低于合格线，已签发督查通知书 %(n)s", { n: saved.notice.number });
          var a = el("a", null, t("打印通知书")); a.href = saved.notice.print_url;
          out.appendChild(document.createTextNode(" ")); out.appendChild(a);
        }
      } catch (e) { showError(e); }
    });
  }

  /* The recent visits as the server renders them (with thumbnails), without a reload. */
  async function refreshRecent() {
    var body = $("recent-body");
    if (!body) return;
    var r = await fetch(location.pathname, { credentials: "same-origin" });
    if (!r.ok) return;
    var doc = new DOMParser().parseFromString(await r.text(), "text/html");
    var fresh = doc.getElementById("recent-body");
    if (fresh) body.replaceWith(document.importNode(fresh, true));
  }

  var planForm = $("plan-form");
  if (planForm) {
    // The default week (the Monday after the hall's today) comes with the page.
    var showPlan = function (p) {
      var box = $("plans");
      box.textContent = "";
      box.appendChild(el("p", "muted", t("%(w)s 起一周，随机种子 %(s)s", { w: p.week_start, s: p.seed })));
      var table = el("table", "acc-table");
      var head = el("tr");
      [t("日期"), t("时间"), t("窗口"), t("权重")].forEach(function (h) { head.appendChild(el("th", null, h)); });
      table.appendChild(head);
      p.plan.forEach(function (v) {
        var tr = el("tr");
        tr.appendChild(el("td", null, v.day)); tr.appendChild(el("td", null, v.time));
        tr.appendChild(el("td", null, t("%(w)s号窗口", { w: v.window })));
        tr.appendChild(el("td", null, num((p.weights[String(v.window_id)] || {}).weight)));
        table.appendChild(tr);
      });
      box.appendChild(table);
    };
    planForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      try {
        showPlan(await api("POST", "/api/v1/halls/" + init.hall + "/visit-plans", {
          week_start: planForm.week_start.value, visits: Number(planForm.visits.value),
        }));
      } catch (e) { showError(e); }
    });
    api("GET", "/api/v1/halls/" + init.hall + "/visit-plans").then(function (plans) {
      if (plans.length) showPlan(plans[0]);
    }).catch(function () {});
  }

  // -- 差评整改 ----------------------------------------------------------------------------
  var rectList = $("rect-list");
  if (rectList) {
    var VIEWS = { satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意" };
    var step = function (rect, name, body) {
      return api("POST", "/api/v1/rectifications/" + rect.id + "/" + name, body).then(loadRects, showError);
    };
    var rectCard = function (r) {
      var card = el("article", "rect" + (r.overdue ? " is-overdue" : ""));
      card.dataset.id = r.id;
      var title = r.kind === "feedback"
        ? t("差评 %(t)s · %(w)s号窗口 · %(l)s", { t: r.ticket, w: r.window, l: t(r.rating_label || "") })
        : r.kind === "evaluation"
        ? t("民主测评末位整改")
        : t("督查通知书整改 · %(w)s号窗口", { w: r.window });
      if (r.staff_label) title += " · " + r.staff_label;
      card.appendChild(el("h3", null, title));
      // The stage only while the case is open (a closed one is at stage 已办结 too).
      var state = r.status === "open"
        ? t("%(s)s（%(stage)s）", { s: t(r.status_label), stage: t(r.stage_label) })
        : t(r.status_label);
      var meta = t("%(d)s · 期限 %(due)s · %(state)s", { d: r.department_name, due: r.due, state: state });
      card.appendChild(el("p", r.overdue ? "overdue" : "muted", meta + (r.overdue ? " · " + t("已逾期") : "")));
      if (r.comment || r.tags.length) card.appendChild(el("p", null, t("群众意见：") + [r.tags.join("、"), r.comment].filter(Boolean).join(" — ")));
      if (r.has_contact) {
        // The callback phone only on request: every view is in the audit record (回访留痕).
        var phone = el("p");
        var show = el("button", "btn btn-small", t("查看回访电话（留痕）"));
        show.type = "button";
        show.onclick = function () {
          api("POST", "/api/v1/rectifications/" + r.id + "/contact").then(function (c) {
            phone.textContent = t("联系电话：") + c.contact;
          }, showError);
        };
        phone.appendChild(show);
        card.appendChild(phone);
      }
      if (r.finding) card.appendChild(el("p", null, t("核实情况：") + r.finding + (r.category_label ? "（" + t(r.category_label) + "）" : "")));
      if (r.measures) card.appendChild(el("p", null, t("整改措施：") + r.measures));
      if (r.called_back_at || r.citizen_view || r.callback_note) {
        card.appendChild(el("p", null, t("回访：") + (r.callback_reached ? t(VIEWS[r.citizen_view] || "") : t("未联系上")) + " " + r.callback_note));
      }
      if (init.can_progress && r.status === "open") {
        var form = el("form");
        var text = el("textarea"); text.rows = 2; text.required = true;
        if (r.stage === "verify") {
          text.placeholder = t("核实情况"); form.appendChild(text);
          var sub = el("select");
          // The classes of GB/T 39734-2020 §9; 误评/恶意 goes to the office as an appeal.
          var classes = [["deadline", "限期整改"], ["immediate", "立行立改"], ["explain", "解释说明"]];
          if (r.kind === "feedback") classes.push(["mistaken", "误评/恶意"]);
          classes.forEach(function (o) { var op = el("option", null, t(o[1])); op.value = o[0]; sub.appendChild(op); });
          sub.setAttribute("aria-label", t("分类"));
          form.appendChild(sub);
          form.appendChild(el("button", "btn btn-primary", t("提交核实")));
          form.onsubmit = function (e) { e.preventDefault(); step(r, "verify", { finding: text.value.trim(), category: sub.value }); };
        } else if (r.stage === "fix") {
          text.placeholder = t("整改措施"); form.appendChild(text);
          form.appendChild(el("button", "btn btn-primary", t("提交整改")));
          form.onsubmit = function (e) { e.preventDefault(); step(r, "fix", { measures: text.value.trim() }); };
        } else if (r.stage === "callback") {
          var view = el("select");
          [["satisfied", "满意"], ["basically_satisfied", "基本满意"], ["unsatisfied", "不满意"], ["", "未联系上"]].forEach(function (o) { var op = el("option", null, t(o[1])); op.value = o[0]; view.appendChild(op); });
          text.required = false; text.placeholder = t("回访情况"); form.appendChild(view); form.appendChild(text);
          form.appendChild(el("button", "btn btn-primary", t("记录回访")));
          form.onsubmit = function (e) {
            e.preventDefault();
            step(r, "callback", { reached: !!view.value, citizen_view: view.value || null, note: text.value.trim() });
          };
        }
        card.appendChild(form);
      }
      if (init.can_progress && r.kind === "feedback" && r.status === "open" && r.feedback) {
        var appeal = el("form");
        var why = el("input"); why.required = true; why.minLength = 2; why.placeholder = t("申诉理由（如：恶意差评的证据）");
        appeal.appendChild(why);
        appeal.appendChild(el("button", "btn", t("提出申诉")));
        appeal.onsubmit = function (e) {
          e.preventDefault();
          api("POST", "/api/v1/feedback/" + r.feedback + "/appeals", { reason: why.value.trim() })
            .then(function () { flash(t("申诉已提交，等待效能办裁定"), "ok"); loadAppeals(); }, showError);
        };
        card.appendChild(appeal);
      }
      return card;
    };
    var loadRects = async function () {
      try {
        var rows = await api("GET", "/api/v1/rectifications?status=" + $("rect-status").value);
        rectList.textContent = "";
        if (!rows.length) rectList.appendChild(el("p", "empty", t("暂无整改工单")));
        rows.forEach(function (r) { rectList.appendChild(rectCard(r)); });
      } catch (e) { showError(e); }
    };
    // A rating entered from another channel (feedback-entry.js) may open a work order.
    document.addEventListener("rectifications-changed", function () { loadRects(); });
    var loadAppeals = async function () {
      var box = $("appeal-list");
      try {
        var rows = await api("GET", "/api/v1/halls/" + init.hall + "/appeals?status=all");
        box.textContent = "";
        if (!rows.length) box.appendChild(el("p", "empty", t("暂无申诉")));
        rows.forEach(function (a) {
          var card = el("article", "rect");
          card.appendChild(el("h3", null, t("申诉：号票 %(t)s 的评价（%(r)s星）", { t: a.ticket, r: a.rating })));
          card.appendChild(el("p", null, t("理由：") + a.reason + " — " + a.filed_by));
          var STATUS = { pending: "待裁定", accepted: "申诉成立，评价已作废", rejected: "申诉不成立" };
          card.appendChild(el("p", "muted", t(STATUS[a.status] || a.status) + (a.decision_reason ? "：" + a.decision_reason : "")));
          if (init.can_decide && a.status === "pending") {
            var form = el("form");
            var why = el("input"); why.required = true; why.minLength = 2; why.placeholder = t("裁定意见");
            form.appendChild(why);
            var yes = el("button", "btn btn-primary", t("申诉成立（作废评价）")); yes.value = "1";
            var no = el("button", "btn", t("申诉不成立")); no.value = "0";
            form.appendChild(yes); form.appendChild(no);
            form.onsubmit = function (e) {
              e.preventDefault();
              var accept = e.submitter ? e.submitter.value === "1" : false;
              api("POST", "/api/v1/appeals/" + a.id + "/decision", { accept: accept, reason: why.value.trim() })
                .then(function () { loadAppeals(); loadRects(); }, showError);
            };
            card.appendChild(form);
          }
          box.appendChild(card);
        });
      } catch (e) { showError(e); }
    };
    // 可疑评价复核: held out of every figure until the office confirms or voids them.
    var loadFlagged = async function () {
      var box = $("flagged-list");
      if (!box) return;
      try {
        var rows = await api("GET", "/api/v1/halls/" + init.hall + "/feedback/flagged?status=all");
        box.textContent = "";
        if (!rows.length) { box.appendChild(el("p", "empty", t("暂无"))); return; }
        var REVIEW = { pending: t("待复核（暂不计入）"), confirmed: t("已确认有效"), voided: t("已作废") };
        var table = el("table", "acc-table");
        rows.forEach(function (f) {
          var tr = el("tr");
          tr.dataset.id = f.id;
          [f.created_at.slice(0, 16).replace("T", " "), f.ticket, f.window ? t("%(w)s号窗口", { w: f.window }) : "—", f.label,
            f.channel === "pad" ? t("评价器") : t("手机"), f.flag_reason,
            (REVIEW[f.review] || f.review) + (f.review_reason ? "：" + f.review_reason : "")].forEach(function (v) { tr.appendChild(el("td", null, v)); });
          var cell = el("td");
          if (f.review === "pending") {
            var form = el("form", "review-form");
            var why = el("input"); why.required = true; why.minLength = 2; why.placeholder = t("复核意见");
            form.appendChild(why);
            var ok = el("button", "btn btn-primary", t("确认有效")); ok.value = "confirm";
            var no = el("button", "btn", t("作废")); no.value = "void";
            form.appendChild(ok); form.appendChild(no);
            form.onsubmit = function (e) {
              e.preventDefault();
              var decision = e.submitter ? e.submitter.value : "confirm";
              api("POST", "/api/v1/feedback/" + f.id + "/review", { decision: decision, reason: why.value.trim() })
                .then(function () { flash(t("复核已记录"), "ok"); loadFlagged(); loadRects(); }, showError);
            };
            cell.appendChild(form);
          }
          tr.appendChild(cell);
          table.appendChild(tr);
        });
        box.appendChild(table);
      } catch (e) { showError(e); }
    };
    $("rect-status").addEventListener("change", loadRects);
    loadRects();
    loadAppeals();
    loadFlagged();
  }

  // -- 星级评定 ------------------------------------------------------------------------------
  var ratingsForm = $("ratings-form");
  if (ratingsForm) {
    var COMPONENTS = ["satisfaction", "inspection", "time_limit", "conduct"];
    var loadRatings = async function () {
      var q = "?period=" + encodeURIComponent(ratingsForm.period.value) + "&subject=" + ratingsForm.subject.value;
      var body = $("ratings-table").querySelector("tbody");
      try {
        var rows = await api("GET", "/api/v1/halls/" + init.hall + "/ratings" + q);
        body.textContent = "";
        var pub = rows.length && rows[0].published;
        $("ratings-state").textContent = pub
          ? t("已公示（%(at)s），结果已冻结", { at: rows[0].published_at.slice(0, 16).replace("T", " ") })
          : t("未公示：以下为实时计算结果");
        if (pub && rows[0].version > 1) {
          $("ratings-state").textContent += " · " + t("第%(v)s版（更正）", { v: rows[0].version });
        }
        if (pub && rows[0].superseded) {
          $("ratings-state").textContent += " · " + t("已被更正版本取代");
        }
        rows.forEach(function (r) {
          var tr = el("tr");
          tr.appendChild(el("td", null, r.stars === null ? "—" : String(r.rank)));
          tr.appendChild(el("td", null, r.name + "（" + r.key + "）"));
          if (r.stars === null) {
            var why = r.reason === "样本不足" ? t("样本不足") : t("无计分数据");
            tr.appendChild(el("td", "stars-cell none", why + t("（办件%(s)s、评价%(r)s、暗访%(i)s）", {
              s: r.samples.services, r: r.samples.ratings, i: r.samples.inspections })));
          } else {
            tr.appendChild(el("td", "stars-cell", "★".repeat(r.stars)));
          }
          tr.appendChild(el("td", null, num(r.score)));
          COMPONENTS.forEach(function (c) { tr.appendChild(el("td", null, num(r.components[c]) + "（" + r.samples[c] + "）")); });
          body.appendChild(tr);
        });
      } catch (e) { body.textContent = ""; $("ratings-state").textContent = e.message; }
    };
    ratingsForm.addEventListener("submit", function (ev) { ev.preventDefault(); loadRatings(); });
    var publishBtn = $("publish");
    if (publishBtn) publishBtn.addEventListener("click", async function () {
      if (!window.confirm(t("公示后本期星级将冻结，不再重新计算。确定公示？"))) return;
      try {
        await api("POST", "/api/v1/halls/" + init.hall + "/ratings/publish", { period: ratingsForm.period.value });
        flash(t("已公示"), "ok");
        loadRatings();
        loadPublications();
      } catch (e) { showError(e); }
    });
    // 更正: a new version of a published period with its reason, superseding the old one.
    var correctForm = $("correct-form");
    if (correctForm) correctForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (!window.confirm(t("更正将公开发布新版本并注明理由，原公示保留并标注为已更正。确定更正？"))) return;
      try {
        await api("POST", "/api/v1/halls/" + init.hall + "/ratings/corrections", {
          period: correctForm.period.value, reason: correctForm.reason.value.trim() });
        flash(t("已发布更正"), "ok");
        correctForm.reason.value = "";
        loadRatings();
        loadPublications();
      } catch (e) { showError(e); }
    });
    var loadPublications = async function () {
      var box = $("publications");
      if (!box) return;
      try {
        var pubs = await api("GET", "/api/v1/halls/" + init.hall + "/ratings/publications");
        var body = box.querySelector("tbody");
        body.textContent = "";
        pubs.forEach(function (p) {
          var tr = el("tr");
          [p.period_label, t("第%(v)s版", { v: p.version }), p.published_at.slice(0, 16).replace("T", " "),
            p.superseded ? t("已被更正") : t("现行有效"), p.correction_reason || "—"].forEach(function (v) { tr.appendChild(el("td", null, v)); });
          body.appendChild(tr);
        });
      } catch (e) { showError(e); }
    };
    loadPublications();
    var cfg = $("config-form");
    cfg.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var weights = {};
      COMPONENTS.forEach(function (c) { weights[c] = Number(cfg["w_" + c].value); });
      try {
        await api("PUT", "/api/v1/halls/" + init.hall + "/accountability-config", {
          weights: weights,
          thresholds: cfg.thresholds.value.split(/[,，\s]+/).filter(Boolean).map(Number),
          shrink_k: Number(cfg.shrink_k.value),
          prior_cap: Number(cfg.prior_cap.value),
          min_services: Number(cfg.min_services.value),
          min_ratings: Number(cfg.min_ratings.value),
          min_inspections: Number(cfg.min_inspections.value),
          appeal_window_days: Number(cfg.appeal_window_days.value),
        });
        flash(t("参数已保存"), "ok");
        loadRatings();
      } catch (e) { showError(e); }
    });
    loadRatings();
  }
}
