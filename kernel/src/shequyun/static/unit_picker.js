/* The unit picker: find a unit by name or code as you type, or drill down the tree
   (市 › 区 › 街镇 › 居村委). It enhances any <input data-unit-picker> that holds a unit code;
   without this script the input takes a typed code (with its <datalist> suggestions), and the
   form's service checks whatever is sent either way. Texts come translated from the page
   (#unit-picker-text, data-texts), units from /units/pick. */
(function () {
  "use strict";
  var textNode = document.getElementById("unit-picker-text");
  var T = textNode ? JSON.parse(textNode.getAttribute("data-texts")) : {};
  function t(key) { return T[key] || key; }
  var counter = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fetchUnits(params, done) {
    var query = Object.keys(params).filter(function (k) { return params[k]; })
      .map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
    fetch("/units/pick?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(done)
      .catch(function () { done({ items: [], crumbs: [], failed: true }); });
  }

  function label(unit) {
    return (unit.trail ? unit.trail + " › " : "") + unit.name + "（" + unit.code + "）";
  }

  function enhance(shown) {
    // The field the page rendered stays the one people type into (and tests and assistive
    // technology already hold): someone who started typing before this script ran keeps focus
    // and text. The code travels in a new hidden input that takes over the field's name.
    counter += 1;
    var n = "up" + counter;
    var reach = shown.getAttribute("data-reach") || "scope";
    var level = shown.getAttribute("data-level") || "";
    var box = el("div", { "class": "unit-picker" });
    var code = el("input", { type: "hidden", name: shown.name });
    code.value = shown.value;
    shown.removeAttribute("name");
    shown.removeAttribute("list");
    shown.removeAttribute("inputmode");
    shown.removeAttribute("maxlength");
    shown.setAttribute("role", "combobox");
    shown.setAttribute("aria-autocomplete", "list");
    shown.setAttribute("aria-expanded", "false");
    shown.setAttribute("aria-controls", n + "-list");
    shown.setAttribute("autocomplete", "off");
    shown.setAttribute("placeholder", t("输入名称或编码查找"));
    shown.classList.add("unit-picker-input");
    var browse = el("button", { type: "button", "class": "secondary unit-picker-browse",
      "aria-expanded": "false", "aria-controls": n + "-tree" }, t("逐级选择"));
    var list = el("ul", { id: n + "-list", role: "listbox", "class": "unit-picker-list",
      "aria-label": t("查找结果") });
    list.hidden = true;
    var tree = el("div", { id: n + "-tree", "class": "unit-picker-tree", role: "group",
      "aria-label": t("逐级选择") });
    tree.hidden = true;
    var picked = el("p", { "class": "unit-picker-picked", "aria-live": "polite" });
    var hadFocus = document.activeElement === shown;
    var caret = hadFocus ? [shown.selectionStart, shown.selectionEnd] : null;
    shown.parentNode.insertBefore(box, shown);
    var row = el("div", { "class": "unit-picker-row" });
    row.appendChild(shown);
    row.appendChild(browse);
    box.appendChild(row);
    box.appendChild(code);
    box.appendChild(list);
    box.appendChild(tree);
    box.appendChild(picked);
    if (hadFocus) { shown.focus(); shown.setSelectionRange(caret[0], caret[1]); }

    var items = [];
    var active = -1;
    var timer = null;

    function choose(unit) {
      code.value = unit.code;
      shown.value = unit.name;
      picked.textContent = t("已选") + "：" + label(unit);
      closeList();
      tree.hidden = true;
      browse.setAttribute("aria-expanded", "false");
      code.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function choosable(unit) { return !level || unit.level === level; }
    function closeList() {
      list.hidden = true;
      shown.setAttribute("aria-expanded", "false");
      shown.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(i) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) return;
      active = (i + options.length) % options.length;
      options.forEach(function (o, k) { o.setAttribute("aria-selected", k === active ? "true" : "false"); });
      shown.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }
    function showResults(answer) {
      items = (answer.items || []).filter(choosable);
      list.textContent = "";
      if (!items.length) {
        list.appendChild(el("li", { "class": "unit-picker-empty", role: "presentation" },
          answer.failed ? t("暂时无法查找，请直接输入编码") : t("没有找到匹配的单位")));
      }
      items.forEach(function (unit, i) {
        var option = el("li", { role: "option", id: n + "-o" + i, "aria-selected": "false" });
        option.appendChild(el("span", { "class": "unit-picker-name" }, unit.name));
        option.appendChild(el("span", { "class": "unit-picker-trail" },
          (unit.trail ? unit.trail + " · " : "") + unit.level_name + " · " + unit.code));
        option.addEventListener("mousedown", function (e) { e.preventDefault(); });
        option.addEventListener("click", function () { choose(unit); });
        list.appendChild(option);
      });
      if (answer.more) {
        list.appendChild(el("li", { "class": "unit-picker-empty", role: "presentation" }, t("结果较多，请输入更多文字")));
      }
      list.hidden = false;
      shown.setAttribute("aria-expanded", "true");
    }
    shown.addEventListener("input", function () {
      code.value = shown.value.trim();
      picked.textContent = "";
      clearTimeout(timer);
      var q = shown.value.trim();
      if (!q) { closeList(); return; }
      timer = setTimeout(function () {
        fetchUnits({ q: q, reach: reach, level: level }, function (answer) {
          // Not after the person moved on: a late answer must not cover the next fields.
          if (shown.value.trim() === q && document.activeElement === shown) showResults(answer);
        });
      }, 200);
    });
    shown.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden) return; mark(active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); if (list.hidden) return; mark(active - 1); }
      else if (e.key === "Enter" && !list.hidden && active >= 0) { e.preventDefault(); choose(items[active]); }
      else if (e.key === "Escape" && !list.hidden) { e.preventDefault(); closeList(); }
    });
    shown.addEventListener("blur", function () { setTimeout(closeList, 150); });

    function drill(parent) {
      fetchUnits({ parent: parent, reach: reach }, function (answer) {
        tree.textContent = "";
        var crumbs = el("ol", { "class": "unit-picker-crumbs", "aria-label": t("当前位置") });
        (answer.crumbs || []).forEach(function (c, i, all) {
          var li = el("li");
          if (i < all.length - 1) {
            var up = el("button", { type: "button", "class": "link" }, c.name);
            up.addEventListener("click", function () { drill(c.code); });
            li.appendChild(up);
          } else {
            li.appendChild(el("span", { "aria-current": "location" }, c.name));
          }
          crumbs.appendChild(li);
        });
        tree.appendChild(crumbs);
        var rows = el("ul", { "class": "unit-picker-children" });
        (answer.items || []).forEach(function (unit) {
          var li = el("li");
          if (choosable(unit)) {
            var take = el("button", { type: "button", "class": "unit-picker-take" }, unit.name);
            take.setAttribute("aria-label", t("选择") + " " + unit.name);
            take.addEventListener("click", function () { choose(unit); shown.focus(); });
            li.appendChild(take);
          } else {
            li.appendChild(el("span", { "class": "unit-picker-name" }, unit.name));
          }
          if (unit.children) {
            var down = el("button", { type: "button", "class": "secondary unit-picker-down" },
              t("下级") + " " + unit.children + " ›");
            down.setAttribute("aria-label", unit.name + " " + t("的下级") + "（" + unit.children + "）");
            down.addEventListener("click", function () { drill(unit.code); });
            li.appendChild(down);
          }
          rows.appendChild(li);
        });
        if (!(answer.items || []).length) {
          rows.appendChild(el("li", { "class": "unit-picker-empty" }, answer.failed ? t("暂时无法查找，请直接输入编码") : t("没有下级单位")));
        }
        tree.appendChild(rows);
        var first = tree.querySelector("button");
        if (first && tree.contains(document.activeElement) === false && drill.focusTree) first.focus();
        drill.focusTree = false;
      });
    }
    browse.addEventListener("click", function () {
      var open = tree.hidden;
      tree.hidden = !open;
      browse.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { closeList(); drill.focusTree = true; drill(""); }
    });

    if (/^[0-9]{12}$/.test(code.value)) {
      fetchUnits({ code: code.value, reach: reach }, function (answer) {
        var unit = (answer.items || [])[0];
        if (unit && code.value === unit.code) {
          // Not into a field someone is typing in: the name would land before their text
          // (seen when typing began before this answer came back).
          if (document.activeElement !== shown) shown.value = unit.name;
          picked.textContent = t("已选") + "：" + label(unit);
        }
      });
    }
  }

  function start() {
    document.querySelectorAll("input[data-unit-picker]").forEach(enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
