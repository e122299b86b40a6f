// Fundwall console: draws the ECharts charts described by data attributes, counts the police
// orders' timers down, follows live tables, and sends the session's CSRF token with every
// HTMX request. No inline scripts anywhere (the console's Content-Security-Policy forbids
// them), so everything starts here.
(function () {
  "use strict";

  var charts = [];

  function yuan(fen) {
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(Math.round(fen));
    var whole = Math.floor(fen / 100).toLocaleString("en-US");
    var cents = String(fen % 100).padStart(2, "0");
    return sign + "¥" + whole + "." + cents;
  }

  function readData(element, attribute) {
    var holder = element.closest("[" + attribute + "]");
    return holder ? JSON.parse(holder.getAttribute(attribute)) : null;
  }

  function timeline(data, animate) {
    var selected = {};
    if (data.series.length) {
      // Passes outnumber everything else many times over; they start hidden (legend shows them).
      selected[data.series[0].name] = false;
    }
    return {
      animation: animate,
      color: data.series.map(function (s) { return s.colour; }),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, selected: selected },
      grid: { left: 48, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: data.buckets, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      dataZoom: data.buckets.length > 48 ? [{ type: "slider", height: 16, bottom: 8 }] : [],
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "decisions", data: s.data, barMaxWidth: 28 };
      })
    };
  }

  // A section of the official statistics (fundwall.web.pages.reports): each figure's trend
  // as a line, counts on the left axis and money (fen, shown in yuan) on the right.
  function trend(data, animate) {
    var money = data.series.some(function (s) { return s.money; });
    var axes = [{ type: "value", minInterval: 1 }];
    if (money) {
      // money is in fen: ticks at least a yuan apart
      axes.push({ type: "value", minInterval: 100, axisLabel: { formatter: function (v) { return yuan(v); } } });
    }
    return {
      animation: animate,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: money ? 96 : 16, top: 36, bottom: 32 },
      xAxis: { type: "category", data: data.buckets, axisLabel: { hideOverlap: true } },
      yAxis: axes,
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          yAxisIndex: s.money ? 1 : 0,
          data: s.data,
          tooltip: s.money ? { valueFormatter: yuan } : {}
        };
      })
    };
  }

  function rules(data, animate) {
    var top = data.rules.slice().reverse();
    return {
      animation: animate,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 32, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category",
        data: top.map(function (r) { return r.name; }),
        axisLabel: { width: 220, overflow: "truncate" }
      },
      series: [{
        type: "bar",
        data: top.map(function (r) { return r.count; }),
        itemStyle: { color: "#2f6fb5" },
        barMaxWidth: 22,
        label: { show: true, position: "right" }
      }]
    };
  }

  // An account's counterparties (fundwall.web.pages.accounts.graph_data), laid out in rings:
  // the account in the middle, its counterparties around it (as the table lists them, known
  // fraud first), and the known fraud accounts that reached it through the member's own
  // accounts outside, beside the account they paid. A node's colour is its risk (a known
  // fraud account, an own account its mule score flags) else whose it is; this account is
  // ringed; a link is as wide as its money and red where it carried money from or to known
  // fraud.
  var RISK_COLOURS = { fraud: "#a61b1b", flagged: "#f7813f" };
  var OWNER_COLOURS = { self: "#2f6fb5", own: "#2f6fb5", other: "#9aa5b1" };
  var RING_RADIUS = [0, 1, 1.75];

  function ringPositions(nodes) {
    var inner = nodes.filter(function (n) { return n.ring === 1; });
    var angle = {};
    var at = {};
    inner.forEach(function (n, i) {
      angle[n.id] = -Math.PI / 2 + 2 * Math.PI * i / inner.length;
    });
    var outer = {};
    nodes.forEach(function (n) {
      if (n.ring === 2) { (outer[n.anchor] = outer[n.anchor] || []).push(n); }
    });
    nodes.forEach(function (n) {
      if (n.ring === 0) { at[n.id] = [0, 0]; return; }
      var a = angle[n.id];
      var r = RING_RADIUS[1];
      if (n.ring === 2) {
        var group = outer[n.anchor];
        var j = group.indexOf(n);
        // Spread a via's sources over its share of the circle, alternating two radii so
        // their labels have room.
        var share = Math.min(2 * Math.PI / Math.max(inner.length, 1), Math.PI / 2);
        a = angle[n.anchor] + share * 0.9 * ((j + 0.5) / group.length - 0.5);
        r = RING_RADIUS[2] + (group.length > 6 ? 0.18 * (j % 2) : 0);
      }
      at[n.id] = [r * Math.cos(a), r * Math.sin(a)];
    });
    return at;
  }

  // A label on the far side of its node from the middle, clear of the links.
  function outward(point) {
    if (Math.abs(point[0]) > 0.45) { return point[0] > 0 ? "right" : "left"; }
    return point[1] < 0 ? "top" : "bottom";
  }

  function graph(data, animate) {
    var largest = Math.max.apply(null, data.nodes.map(function (n) { return n.value; }).concat([1]));
    var links = Math.max.apply(null, data.links.map(function (l) { return l.value; }).concat([1]));
    var names = {};
    data.nodes.forEach(function (n) { names[n.id] = n.name; });
    var at = ringPositions(data.nodes);
    var crowded = data.nodes.filter(function (n) { return n.ring === 2; }).length > 12;
    return {
      animation: animate,
      tooltip: {
        formatter: function (p) {
          var text = echarts.format.encodeHTML;
          if (p.dataType === "edge") {
            return text(names[p.data.source]) + " → " + text(names[p.data.target]) + "<br>" +
              yuan(p.data.value);
          }
          return text(p.data.name) + (p.data.bank ? " (" + text(p.data.bank) + ")" : "") +
            (p.data.note ? "<br>" + text(p.data.note) : "") +
            (p.data.value ? "<br>" + yuan(p.data.value) : "");
        }
      },
      series: [{
        type: "graph",
        layout: "none",
        roam: true,
        top: 36, bottom: 36, left: 110, right: 110,
        preserveAspect: true,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 7,
        label: { show: true, position: "bottom", fontSize: 10, color: "#3e4c59" },
        labelLayout: { hideOverlap: true },
        lineStyle: { curveness: 0.12 },
        emphasis: { focus: "adjacency", label: { show: true } },
        data: data.nodes.map(function (n) {
          var self = n.kind === "self";
          return {
            id: n.id, name: n.name, value: n.value, bank: n.bank, link: n.link, note: n.note,
            x: at[n.id][0], y: at[n.id][1],
            symbolSize: self ? 38 : n.ring === 2 ? 10 : 12 + 24 * Math.sqrt(n.value / largest),
            itemStyle: {
              color: RISK_COLOURS[n.risk] || OWNER_COLOURS[n.kind],
              borderColor: self ? "#1f2933" : "#ffffff",
              borderWidth: self ? 4 : 1
            },
            label: self ? { fontWeight: "bold", fontSize: 11 } :
              n.ring === 2 && crowded ? { show: false } : { position: outward(at[n.id]) },
            z: n.risk === "fraud" ? 3 : 2
          };
        }),
        links: data.links.map(function (l) {
          return {
            source: l.source, target: l.target, value: l.value,
            lineStyle: {
              width: 1 + 6 * Math.sqrt(l.value / links),
              color: l.risk ? "#d64545" : "#bcccdc",
              opacity: l.risk ? 0.9 : 0.7
            }
          };
        })
      }]
    };
  }

  var STANDING_COLOURS = { stopped: "#2e8b57", frozen: "#2f6fb5", open: "#d64545", exit: "#9aa5b1" };

  // A trace's chain as a Sankey: hops left to right (node depth), links as wide as the traced
  // money they carried, each account in the colour of its standing.
  function chain(data, animate) {
    return {
      animation: animate,
      tooltip: {
        formatter: function (p) {
          var text = echarts.format.encodeHTML;
          if (p.dataType === "edge") {
            return text(p.data.source) + " → " + text(p.data.target) + "<br>" + yuan(p.data.value);
          }
          return text(p.data.name) + (p.data.bank ? " (" + text(p.data.bank) + ")" : "") +
            "<br>" + text(p.data.label) + " " + yuan(p.data.held);
        }
      },
      series: [{
        type: "sankey",
        nodeAlign: "left",
        layoutIterations: 0,
        label: { fontSize: 10 },
        lineStyle: { color: "source", opacity: 0.4 },
        data: data.nodes.map(function (n) {
          return {
            name: n.name, depth: n.depth, bank: n.bank, held: n.held, label: n.label,
            itemStyle: { color: STANDING_COLOURS[n.standing] }
          };
        }),
        links: data.links
      }]
    };
  }

  var BUILDERS = {
    chain: function (el, animate) { return chain(readData(el, "data-chart-data"), animate); },
    timeline: function (el, animate) { return timeline(readData(el, "data-charts"), animate); },
    rules: function (el, animate) { return rules(readData(el, "data-charts"), animate); },
    graph: function (el, animate) { return graph(readData(el, "data-chart-data"), animate); },
    trend: function (el, animate) { return trend(readData(el, "data-chart-data"), animate); }
  };

  function draw(root, animate) {
    if (typeof echarts === "undefined") { return; }
    charts = charts.filter(function (chart) {
      if (chart.getDom().isConnected) { return true; }
      chart.dispose();
      return false;
    });
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (echarts.getInstanceByDom(el)) { return; }
      var build = BUILDERS[el.getAttribute("data-chart")];
      if (!build) { return; }
      var chart = echarts.init(el);
      chart.setOption(build(el, animate));
      if (el.getAttribute("data-chart") === "graph") {
        chart.on("click", function (p) {
          if (p.dataType === "node" && p.data.link) { window.location.href = p.data.link; }
        });
      }
      charts.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document, true); });
  // Polled panels are redrawn without animation, so numbers change without flicker.
  document.addEventListener("htmx:after:swap", function () { draw(document, false); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // An order's timer (.countdown) counts down from the seconds left the server computed by its
  // own clock (data-seconds): the browser's clock, which can be wrong, only measures the time
  // since the page came. Drawn as the server draws it (fundwall.web.pages.orders.time_left);
  // the last data-soon seconds are marked "soon"; at zero it reads data-expired.
  var timers = [];

  function pad(number) { return String(number).padStart(2, "0"); }

  function timeLeft(seconds) {
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" +
      pad(rest % 60);
    return days ? days + "d " + clock : clock;
  }

  function startTimers(root) {
    root.querySelectorAll(".countdown[data-seconds]").forEach(function (el) {
      if (el.classList.contains("expired")) { return; }
      if (timers.some(function (timer) { return timer.el === el; })) { return; }
      timers.push({
        el: el,
        seconds: Number(el.getAttribute("data-seconds")),
        soon: Number(el.getAttribute("data-soon")),
        since: performance.now()
      });
    });
  }

  function tick() {
    var now = performance.now();
    timers = timers.filter(function (timer) {
      var left = Math.max(0, timer.seconds - Math.floor((now - timer.since) / 1000));
      if (left === 0) {
        timer.el.textContent = timer.el.getAttribute("data-expired");
        timer.el.classList.remove("soon");
        timer.el.classList.add("expired");
        return false;
      }
      timer.el.textContent = timeLeft(left);
      timer.el.classList.toggle("soon", left <= timer.soon);
      return timer.el.isConnected;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { startTimers(document); });
  document.addEventListener("htmx:after:swap", function () { startTimers(document); });
  window.setInterval(tick, 250);

  // A live table (data-event-source): the server's events (the sharing hub's feed) each carry
  // a table row it rendered, as the page's own rows are; the newest goes on top, and the table
  // keeps data-event-keep rows. The element named by data-event-state says whether the stream
  // is live. The browser reconnects by itself, resuming after the last event's id.
  function follow(table) {
    var state = document.querySelector(table.getAttribute("data-event-state"));
    var keep = Number(table.getAttribute("data-event-keep")) || 50;
    var body = table.tBodies[0];
    var source = new EventSource(table.getAttribute("data-event-source"));
    function show(live) {
      if (!state) { return; }
      state.textContent = state.getAttribute(live ? "data-live" : "data-closed");
      state.classList.toggle("live", live);
      state.classList.toggle("closed", !live);
    }
    function arrive(event) {
      body.insertAdjacentHTML("afterbegin", event.data);
      body.rows[0].classList.add("arrived");
      while (body.rows.length > keep) { body.deleteRow(-1); }
      var empty = document.getElementById("feed-empty");
      if (empty) { empty.remove(); }
    }
    source.addEventListener("open", function () { show(true); });
    source.addEventListener("published", arrive);
    source.addEventListener("retracted", arrive);
    source.addEventListener("error", function () {
      // CLOSED: the server refused the stream (signed out); CONNECTING: it will come back.
      if (source.readyState === EventSource.CLOSED) { show(false); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-event-source]").forEach(follow);
  });

  // Consequential forms ask first; the question is in the form's data-confirm attribute.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  document.addEventListener("htmx:config:request", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && event.detail && event.detail.ctx) {
      event.detail.ctx.request.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
}());
