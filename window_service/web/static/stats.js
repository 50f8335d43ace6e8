/* 效能统计 (/office/stats): draws the page's charts with the vendored Apache ECharts
 * (static/vendor/echarts) from the JSON the server rendered (#stats-charts), and shows only
 * the picker of the chosen period kind (without this script all three pickers show). */
var form = document.getElementById("stats-filters");
if (form) {
  var showKind = function () {
    var checked = form.querySelector('input[name="kind"]:checked');
    var kind = checked ? checked.value : "month";
    form.querySelectorAll("[data-kind]").forEach(function (label) {
      var on = label.dataset.kind === kind;
      label.hidden = !on;
      label.querySelectorAll("input, select").forEach(function (i) { i.disabled = !on; });
    });
  };
  form.addEventListener("change", function (ev) { if (ev.target.name === "kind") showKind(); });
  showKind();
}

var node = document.getElementById("stats-charts");
if (node && window.echarts) start();

function start() {
  var specs = JSON.parse(node.textContent);
  var COLORS = ["#1d5fbf", "#16803c", "#d97706", "#b91c1c", "#7c3aed"];
  // ECharts measures text itself: it must know the page's real font ("inherit" is not one).
  var FONT = window.getComputedStyle(document.body).fontFamily;
  var ZOOM_FROM = 40; // categories: a quarter's days get a slider, a month's do not

  function option(spec) {
    var axes = spec.axes.map(function (name, i) {
      return {
        type: "value", name: name, position: i ? "right" : "left", minInterval: i ? 0 : 1,
        splitLine: { show: i === 0 }, axisLabel: { fontSize: 13 },
        nameTextStyle: { fontSize: 13, align: i ? "right" : "left" }
      };
    });
    return {
      color: COLORS,
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, itemGap: 18, textStyle: { fontSize: 14, fontFamily: FONT } },
      grid: { left: 12, right: 12, top: 48, bottom: spec.categories.length > ZOOM_FROM ? 56 : 12, containLabel: true },
      xAxis: {
        type: "category", data: spec.categories,
        axisLabel: { fontSize: 13, interval: "auto", hideOverlap: true }
      },
      yAxis: axes,
      dataZoom: spec.categories.length > ZOOM_FROM ? [{ type: "slider", height: 20, bottom: 8 }] : [],
      series: spec.series.map(function (s) {
        return {
          name: s.name, type: s.type, data: s.data, yAxisIndex: Math.min(s.axis, axes.length - 1),
          connectNulls: false, smooth: false, barMaxWidth: 36, symbolSize: 6
        };
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option(specs[Number(el.dataset.chart)]));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
}
