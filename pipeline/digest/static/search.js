/* Dyad archive search: every story's headline and summary, from search-index.js (a JSON index
   assigned to window.dyadSearch, loaded by a script element so it works from file:// too).
   Every word of the query must appear; results are written with textContent, never as HTML.
   index.html?q=words runs the search on load. */
(function () {
  "use strict";
  var box = document.getElementById("q");
  var hits = document.getElementById("hits");
  var status = document.getElementById("search-status");
  var MAX = 50;
  var stories = null;
  var waiting = [];

  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function load(then) {
    if (stories) { then(); return; }
    waiting.push(then);
    if (waiting.length > 1) { return; }
    var script = document.createElement("script");
    script.src = "search-index.js";
    script.onload = function () {
      stories = (window.dyadSearch && window.dyadSearch.stories) || [];
      stories.forEach(function (s) { s.text = fold(s.headline + " " + s.summary); });
      waiting.splice(0).forEach(function (f) { f(); });
    };
    script.onerror = function () { status.textContent = "The search index (search-index.js) could not be loaded."; };
    document.head.appendChild(script);
  }

  function item(story) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = story.url;
    link.textContent = story.headline;
    var meta = document.createElement("div");
    meta.className = "m";
    meta.textContent = story.pair + " · " + story.day;
    var summary = document.createElement("div");
    summary.textContent = story.summary.length > 220 ? story.summary.slice(0, 219) + "…" : story.summary;
    li.appendChild(link);
    li.appendChild(meta);
    li.appendChild(summary);
    return li;
  }

  function run() {
    var words = fold(box.value).split(/\s+/).filter(Boolean);
    hits.textContent = "";
    if (!words.length) { status.textContent = ""; return; }
    var found = stories.filter(function (s) {
      return words.every(function (w) { return s.text.indexOf(w) !== -1; });
    });
    found.slice(0, MAX).forEach(function (s) { hits.appendChild(item(s)); });
    status.textContent = found.length === 0 ? "No story matches." :
      (found.length === 1 ? "1 story" : found.length + " stories") +
      (found.length > MAX ? ", the first " + MAX + " shown." : ".");
  }

  box.addEventListener("input", function () { load(run); });
  box.form.addEventListener("submit", function (event) { event.preventDefault(); load(run); });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) { box.value = query; load(run); }
})();
