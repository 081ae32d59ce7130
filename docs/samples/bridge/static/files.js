// Each call returns a promise: await it, and catch what the Python function raised.
async function showTotal() {
  const total = await flaskdesk.api.add(2, 3);
  document.getElementById("total").textContent = total;
}

async function showNote(id) {
  const out = document.getElementById("note");
  try {
    const note = await flaskdesk.api.findNote(id);
    out.textContent = note.title;
  } catch (error) {
    out.textContent = `${error.name}: ${error.message}`;
  }
}

async function publish() {
  // Keyword arguments: flaskdesk.call(name, args, kwargs).
  const done = await flaskdesk.call("rename", ["draft.txt", "final.txt"], { overwrite: true });
  document.getElementById("status").textContent = done;
}
