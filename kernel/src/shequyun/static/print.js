/* Buttons marked data-print open the browser's print dialog (the page's print styles drop the
   navigation, forms and buttons). Without the script, the browser's own 打印 does the same. */
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) { event.preventDefault(); window.print(); }
});
