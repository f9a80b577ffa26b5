/* The invoice's «Печать» button (no inline script: the Content-Security-Policy forbids it). */
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) window.print();
});
