// Room cabinet: a resumable uploader with a progress bar per file, and the music player.
// Without JavaScript the page still works: the form posts multipart and the player is a list of links.
(function () {
  "use strict";
  var CHUNK = 8 * 1024 * 1024; // bytes per PUT: a dropped connection costs at most one chunk
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function text(el, key) { return (el && el.getAttribute("data-msg-" + key)) || key; }

  // ---- uploads -------------------------------------------------------------------------
  var form = document.getElementById("upload-form");
  var list = document.getElementById("upload-progress");
  if (form && list && window.fetch && window.File && File.prototype.slice) {
    form.addEventListener("submit", function (ev) {
      var input = form.querySelector('input[type="file"]');
      if (!input.files.length) { return; }
      ev.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var rows = files.map(addRow);
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      var failed = false;
      files.reduce(function (prev, file, i) {
        return prev.then(function () {
          return upload(file, rows[i]).catch(function (err) {
            failed = true;
            // The server says why (over the quota, a name it cannot take) in the member's language;
            // only a lost connection or a server in trouble is worth trying again.
            var interrupted = !err.status || err.status >= 500 || err.status === 409;
            rows[i].status.textContent = interrupted ? text(list, "interrupted")
              : text(list, "failed") + ": " + err.message;
            rows[i].li.className = "failed";
          });
        });
      }, Promise.resolve()).then(function () {
        button.disabled = false;
        // Let the finished bars be seen for a moment, then show the folder with the new files.
        if (!failed) { setTimeout(function () { window.location.reload(); }, 800); return; }
        // Some failed: keep every row (the saved ones link to their file) and offer the folder.
        var note = document.createElement("li");
        note.className = "upload-summary";
        note.appendChild(document.createTextNode(text(list, "some-failed") + " "));
        var again = document.createElement("a");
        again.href = window.location.pathname;
        again.textContent = text(list, "reload");
        note.appendChild(again);
        list.appendChild(note);
      });
    });
  }

  function addRow(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = text(list, "waiting");
    li.appendChild(name); li.appendChild(bar); li.appendChild(status);
    list.appendChild(li);
    return { li: li, name: name, bar: bar, status: status };
  }

  function key(file) {
    return "yui-upload:" + form.getAttribute("data-create-url") + ":" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function request(method, url, body, headers) {
    var h = { "X-CSRF-Token": token, "Accept": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, { method: method, body: body, headers: h, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          throw failure(r.status, j.message || r.statusText);
        });
      }
      return r.status === 204 ? {} : r.json();
    });
  }

  function failure(status, message) {
    var e = new Error(message);
    e.status = status;
    return e;
  }

  function start(file) {
    // A reload or a second try resumes the upload this browser began for the same file.
    var saved = localStorage.getItem(key(file));
    var base = form.getAttribute("data-uploads-url");
    if (saved) {
      return request("GET", base + saved).then(function (s) { return { id: saved, offset: s.offset }; },
        function () { localStorage.removeItem(key(file)); return start(file); });
    }
    var body = new URLSearchParams({ name: file.name, size: String(file.size) });
    return request("POST", form.getAttribute("data-create-url"), body,
      { "Content-Type": "application/x-www-form-urlencoded" }).then(function (r) {
      localStorage.setItem(key(file), r.id);
      return { id: r.id, offset: r.offset };
    });
  }

  function upload(file, row) {
    var base = form.getAttribute("data-uploads-url");
    return start(file).then(function (u) {
      if (u.offset > 0) { row.status.textContent = text(list, "resuming"); }
      var conflicts = 0;
      // 409: the upload does not stand where this browser thought (another tab sent a piece, or a
      // piece is still being received): ask where it stands and go on from there, a few times.
      function resync(err) {
        if (err.status !== 409 || ++conflicts > 5) { throw err; }
        return new Promise(function (done) { setTimeout(done, 500 * conflicts); })
          .then(function () { return request("GET", base + u.id); })
          .then(function (s) { return next(s.offset); });
      }
      function next(offset) {
        row.bar.value = offset;
        row.status.textContent = Math.floor(100 * offset / (file.size || 1)) + "%";
        if (offset >= file.size) {
          return request("POST", base + u.id + "/finish").then(function (r) {
            localStorage.removeItem(key(file));
            row.bar.value = row.bar.max;
            row.status.textContent = text(list, "done");
            row.li.className = "done";
            if (r.file) {
              var link = document.createElement("a");
              link.href = base.replace(/uploads\/$/, "file/") + r.file + "/" + encodeURIComponent(file.name);
              link.textContent = file.name;
              row.name.textContent = "";
              row.name.appendChild(link);
            }
          }, resync);
        }
        var piece = file.slice(offset, Math.min(offset + CHUNK, file.size));
        return sendChunk(base + u.id + "?offset=" + offset, piece, function (sent) {
          row.bar.value = offset + sent;
          row.status.textContent = Math.floor(100 * (offset + sent) / file.size) + "%";
        }).then(function (r) { conflicts = 0; return next(r.offset); }, resync);
      }
      return next(u.offset);
    });
  }

  // XMLHttpRequest, because fetch cannot report upload progress.
  function sendChunk(url, blob, progress) {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open("PUT", url);
      x.setRequestHeader("X-CSRF-Token", token);
      x.setRequestHeader("Content-Type", "application/octet-stream");
      x.setRequestHeader("Accept", "application/json");
      x.upload.onprogress = function (e) { progress(e.loaded); };
      x.onload = function () {
        if (x.status >= 200 && x.status < 300) { resolve(JSON.parse(x.responseText)); }
        else {
          var message = x.statusText;
          try { message = JSON.parse(x.responseText).message || message; } catch (e) { /* not JSON */ }
          reject(failure(x.status, message));
        }
      };
      x.onerror = function () { reject(new Error("network")); };
      x.send(blob);
    });
  }

  // ---- player --------------------------------------------------------------------------
  var audio = document.getElementById("audio");
  var playlist = document.getElementById("playlist");
  if (audio && playlist) {
    var links = Array.prototype.slice.call(playlist.querySelectorAll("a[data-track]"));
    var now = document.getElementById("now-playing");
    var current = 0;
    var posKey = "yui-player:" + window.location.pathname;
    function load(i, autoplay) {
      current = i;
      var a = links[i];
      audio.src = a.getAttribute("href");
      var title = a.getAttribute("data-title"), artist = a.getAttribute("data-artist");
      now.textContent = artist ? title + " — " + artist : title;
      links.forEach(function (l, j) { l.parentNode.className = j === i ? "playing" : ""; });
      if ("mediaSession" in navigator && window.MediaMetadata) {
        navigator.mediaSession.metadata = new MediaMetadata({ title: title, artist: artist || "" });
      }
      if (autoplay) { audio.play().catch(function () {}); }
    }
    links.forEach(function (a, i) {
      a.addEventListener("click", function (ev) { ev.preventDefault(); load(i, true); });
    });
    audio.addEventListener("ended", function () {
      if (current + 1 < links.length) { load(current + 1, true); } else { localStorage.removeItem(posKey); }
    });
    // Remember where we were (track and second), so a reload or the next drive picks up there.
    audio.addEventListener("timeupdate", function () {
      if (Math.floor(audio.currentTime) % 5 === 0) {
        localStorage.setItem(posKey, JSON.stringify({ track: current, time: audio.currentTime }));
      }
    });
    if ("mediaSession" in navigator) {
      navigator.mediaSession.setActionHandler("nexttrack", function () { if (current + 1 < links.length) { load(current + 1, true); } });
      navigator.mediaSession.setActionHandler("previoustrack", function () { if (current > 0) { load(current - 1, true); } });
    }
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(posKey) || "null"); } catch (e) { saved = null; }
    if (saved && saved.track < links.length) {
      load(saved.track, false);
      audio.addEventListener("loadedmetadata", function once() {
        audio.removeEventListener("loadedmetadata", once);
        if (saved.time < audio.duration) { audio.currentTime = saved.time; }
      });
    } else {
      load(0, false);
    }
  }
})();
