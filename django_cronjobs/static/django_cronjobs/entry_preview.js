"use strict";
// The "Preview the next runs" button of a cron entry's form: posts the form to
// the preview view and lists the runs it answers with, or why the entry would
// be refused. Nothing is saved.
document.addEventListener("DOMContentLoaded", function () {
  const box = document.querySelector(".cronjobs-preview");
  if (!box) {
    return;
  }
  const form = box.closest("form");
  const button = box.querySelector(".cronjobs-preview-button");
  const list = box.querySelector(".cronjobs-preview-runs");

  function show(lines, failed) {
    list.replaceChildren();
    list.classList.toggle("errorlist", failed);
    for (const line of lines) {
      const item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    }
  }

  button.addEventListener("click", async function () {
    button.disabled = true;
    try {
      const response = await fetch(box.dataset.previewUrl, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
      });
      if (!response.ok) {
        show([response.status + " " + response.statusText], true);
        return;
      }
      const answer = await response.json();
      if (answer.errors) {
        const lines = [];
        for (const [field, errors] of Object.entries(answer.errors)) {
          for (const error of errors) {
            lines.push(field === "__all__" ? error : field + ": " + error);
          }
        }
        show(lines, true);
      } else if (answer.runs.length) {
        show(answer.runs, false);
      } else {
        show([answer.note || "-"], false);
      }
    } catch (error) {
      show([String(error)], true);
    } finally {
      button.disabled = false;
    }
  });
});
