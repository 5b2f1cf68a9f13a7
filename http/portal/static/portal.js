// Copy buttons: <button data-copy="element-id"> copies that element's text.
"use strict";
document.addEventListener("click", function (ev) {
  var button = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  var say = function (text) { if (status) status.textContent = text; };
  var text = source ? source.textContent : "";
  var fallback = function () {
    var range = document.createRange();
    range.selectNodeContents(source);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    say(done ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.");
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(function () { say("Copied."); }, fallback);
  } else {
    fallback();
  }
});
