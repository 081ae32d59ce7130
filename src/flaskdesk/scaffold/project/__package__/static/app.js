// Page script: plain JavaScript, no build step. Loaded with `defer`, so the page is parsed first.
"use strict";

// The JSON endpoint: /api/tasks, an ordinary Flask route.
async function showTaskCount() {
  const count = document.getElementById("task-count");
  if (!count) return;
  const response = await fetch("/api/tasks");
  if (!response.ok) return;
  const data = await response.json();
  count.textContent = `(${data.open} open of ${data.tasks.length})`;
}

// The bridge: a Python function exposed with @desktop.expose (see api.py).
// window.flaskdesk exists only inside the flaskdesk window, so check for it.
function setUpGreeting() {
  const form = document.getElementById("greet-form");
  if (!form) return;
  const output = document.getElementById("greeting");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.flaskdesk) {
      output.textContent = "Open this page in the app's window (flaskdesk run) to call Python.";
      return;
    }
    const name = document.getElementById("greet-name").value;
    try {
      output.textContent = await flaskdesk.api.greet(name);
    } catch (error) {
      output.textContent = `${error.name}: ${error.message}`;
    }
  });
}

setUpGreeting();
showTaskCount();
