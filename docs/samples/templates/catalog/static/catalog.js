// Event handlers live here, not in onclick="..." attributes: the CSP blocks inline handlers.
document.getElementById("refresh").addEventListener("click", () => {
  window.location.reload();
});
