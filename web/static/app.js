// htmx swaps only 2xx answers by default: a 4xx/5xx from a form would change nothing on screen.  Swap the
// server's inline message when it sent one (an HTML panel with the error inside), and otherwise show the
// answer's text in the page's #flash area.  A local file, not an inline script, so a strict CSP can stay.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status < 400) { return; }
  var type = xhr.getResponseHeader("Content-Type") || "";
  var body = xhr.responseText || "";
  if (type.indexOf("text/html") === 0 && body.indexOf('role="alert"') !== -1 && body.indexOf("<html") === -1) {
    event.detail.shouldSwap = true;   // the panel itself, re-rendered with its error message
    event.detail.isError = false;
    return;
  }
  var message = "The server answered " + xhr.status + ".";
  try {
    var detail = JSON.parse(body).detail;
    message = Array.isArray(detail) ? detail.map(function (d) { return d.msg || d; }).join("; ") : String(detail);
  } catch (e) {
    var doc = new DOMParser().parseFromString(body, "text/html");
    var alerts = doc.querySelectorAll('[role="alert"]');
    for (var i = 0; i < alerts.length; i++) {
      if (alerts[i].textContent.trim()) { message = alerts[i].textContent.trim(); break; }
    }
  }
  showFlash(message);
});

document.addEventListener("htmx:sendError", function () {
  showFlash("The server could not be reached: check the connection and try again.");
});

document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.xhr && event.detail.xhr.status < 400) { hideFlash(); }
});

function showFlash(message) {
  var flash = document.getElementById("flash");
  if (!flash) { window.alert(message); return; }
  flash.textContent = message;
  flash.hidden = false;
  flash.scrollIntoView({block: "nearest"});
}

function hideFlash() {
  var flash = document.getElementById("flash");
  if (flash) { flash.hidden = true; }
}
