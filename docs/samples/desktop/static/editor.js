// Runs in the Editor window: native dialogs and windows, from the page.
document.getElementById("open").addEventListener("click", async () => {
  const path = await flaskdesk.dialogs.openFile({ fileTypes: [["Text", ["*.txt", "*.md"]]] });
  document.getElementById("status").textContent = path === null ? "Cancelled" : "Picked " + path;
});

document.getElementById("clear").addEventListener("click", async () => {
  if (await flaskdesk.dialogs.confirm("Forget the recent files?", { title: "Editor" })) {
    document.getElementById("status").textContent = "Forgotten";
  }
});

document.getElementById("recent").addEventListener("click", () => {
  flaskdesk.windows.open("/recent", { title: "Recent files", width: 480, height: 360 });
});

document.getElementById("remind").addEventListener("click", async () => {
  try {
    await flaskdesk.notifications.show("Editor", "Remember to save your notes", { timeout: 10 });
    document.getElementById("status").textContent = "Reminder shown";
  } catch (error) {
    // error.name is "NotificationError": no notification service here (error.message says why)
    document.getElementById("status").textContent = error.message;
  }
});
