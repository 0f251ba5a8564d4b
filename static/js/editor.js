// The post editor's images: upload an image into the room's file cabinet (chosen, or dropped on the
// text) and insert its Markdown where the cursor is. Without this script the picker of the
// cabinet's images still works (the server inserts the chosen one).
(function () {
  "use strict";
  var zone = document.querySelector(".image-drop[data-create-url]");
  var body = document.getElementById("body");
  if (!zone || !body || !window.fetch) { return; }
  zone.hidden = false;
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var input = document.getElementById("image_file");
  var status = zone.querySelector(".image-status");
  var CHUNK = 8 * 1024 * 1024;
  var IMAGE = /^image\/(png|jpeg|gif|webp|avif)$/;

  function request(method, url, payload, type) {
    var headers = { "X-CSRF-Token": token, "Accept": "application/json" };
    if (type) { headers["Content-Type"] = type; }
    return fetch(url, { method: method, body: payload, headers: headers, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (j) {
            throw new Error(j.message || r.statusText);
          });
        }
        return r.json();
      });
  }

  function upload(file) {
    var uploads = zone.getAttribute("data-uploads-url");
    var form = new URLSearchParams({ name: file.name, size: String(file.size) });
    return request("POST", zone.getAttribute("data-create-url"), form, "application/x-www-form-urlencoded")
      .then(function (u) {
        function next(offset) {
          if (offset >= file.size) { return request("POST", uploads + u.id + "/finish"); }
          var piece = file.slice(offset, Math.min(offset + CHUNK, file.size));
          return request("PUT", uploads + u.id + "?offset=" + offset, piece, "application/octet-stream")
            .then(function (r) { return next(r.offset); });
        }
        return next(u.offset || 0);
      });
  }

  function markdown(file, id) {
    var alt = file.name.replace(/\.[^.]*$/, "").replace(/([\\\[\]*_`<>])/g, "\\$1");
    var url = zone.getAttribute("data-file-url") + id + "/" + encodeURIComponent(file.name);
    return "![" + alt + "](" + url + ")";
  }

  function insert(text) {
    var start = body.selectionStart, end = body.selectionEnd, value = body.value;
    var before = value.slice(0, start), after = value.slice(end);
    var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var snippet = lead + text + "\n";
    body.value = before + snippet + after;
    body.selectionStart = body.selectionEnd = before.length + snippet.length;
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function send(files) {
    var list = Array.prototype.filter.call(files, function (f) { return IMAGE.test(f.type); });
    var done = 0;
    return list.reduce(function (chain, file) {
      return chain.then(function () {
        status.textContent = zone.getAttribute("data-uploading") + " " + file.name;
        return upload(file).then(function (r) {
          insert(markdown(file, r.file));
          done += 1;
          status.textContent = zone.getAttribute("data-done") + ": " + file.name;
        }, function (e) {
          status.textContent = zone.getAttribute("data-failed") + ": " + file.name + " (" + e.message + ")";
        });
      });
    }, Promise.resolve()).then(function () { return done; });
  }

  input.addEventListener("change", function () {
    send(input.files).then(function () { input.value = ""; });
  });
  body.addEventListener("dragover", function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) {
      e.preventDefault();
      body.classList.add("dragover");
    }
  });
  body.addEventListener("dragleave", function () { body.classList.remove("dragover"); });
  body.addEventListener("drop", function (e) {
    body.classList.remove("dragover");
    if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
    e.preventDefault();
    send(e.dataTransfer.files);
  });
}());
