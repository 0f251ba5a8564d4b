//! Crash safety of the file cabinet, with the real binary: `kill -9` while uploads are still
//! streaming leaves no file row and no blob, only a part file in `tmp/` that the next start-up
//! removes; a resumable upload keeps every acknowledged chunk and can be finished after the restart.
//! Always SQLite: the subprocess gets its own data directory (`YUI_TEST_DATABASE_URL` is ignored).

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc as chan;
use yui::db::schema::{files, uploads};

const PASSWORD: &str = "crash-test-password";
const MB: usize = 1024 * 1024;
/// What the resumable upload declares: room to stream far past any write buffer before the kill.
const RESUMABLE_SIZE: usize = 32 * MB;
/// Pieces the slow streams are fed in.
const PIECE: usize = 256 * 1024;
/// Bound on every wait: the test fails instead of hanging.
const TIMEOUT: Duration = Duration::from_mins(1);
const POLL: Duration = Duration::from_millis(10);

/// A `yui serve` subprocess on a free loopback port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `yui serve` on `data` and waits for its "listening on" line, which is printed after
    /// start-up (migrations, the `tmp/` sweep) is done.
    fn start(data: &Path, log: &Path) -> Self {
        let mut child = yui(data)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let Ok(first) = rx.recv_timeout(TIMEOUT) else {
            let _ = child.kill();
            panic!(
                "yui serve did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        };
        let addr = first
            .rsplit("listening on ")
            .next()
            .unwrap()
            .trim_end_matches(')')
            .to_owned();
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no destructor, no flush, no clean-up runs.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn yui(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yui"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("YUI_DATABASE_URL")
        .env_remove("YUI_CONFIG");
    c
}

/// Deterministic, non-repeating-looking bytes (so a misplaced range would change the hash).
fn content(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 7 + i / 251 + seed) % 256).unwrap())
        .collect()
}

fn sha_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            write!(s, "{b:02x}").unwrap();
            s
        })
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(list) = std::fs::read_dir(dir) {
        for e in list.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(entries(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn len_of(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn open_db(data: &Path) -> yui::db::DbConn {
    yui::db::establish(&format!("sqlite://{}", data.join("yui.db").display())).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        // A new connection per request: between requests these tests kill servers and hash
        // megabytes (slow in a debug build), long enough for the server's 5 s keep-alive to close
        // an idle connection just as it is reused (CI once failed on that with IncompleteMessage).
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn csrf(c: &reqwest::Client, url: &str) -> String {
    let page = c.get(url).send().await.unwrap().text().await.unwrap();
    crate::support::csrf_from(&page)
}

async fn login(s: &Server, c: &reqwest::Client) {
    let token = csrf(c, &s.url("/login")).await;
    let res = c
        .post(s.url("/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "manager"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "login failed");
}

/// A request body that is only ever fed by the test, piece by piece, and never ends on its own.
fn open_stream() -> (chan::Sender<Result<Vec<u8>, std::io::Error>>, reqwest::Body) {
    let (tx, rx) = chan::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (tx, reqwest::Body::wrap_stream(stream))
}

/// Feeds `bytes` into `tx` piece by piece until `landed()` says the server has written some of
/// them to disk; returns how many bytes were fed. The stream stays open.
async fn feed_until(
    tx: &chan::Sender<Result<Vec<u8>, std::io::Error>>,
    bytes: &[u8],
    landed: impl Fn() -> bool,
) -> usize {
    let deadline = Instant::now() + TIMEOUT;
    let mut fed = 0;
    for piece in bytes.chunks(PIECE) {
        tokio::time::timeout(TIMEOUT, tx.send(Ok(piece.to_vec())))
            .await
            .unwrap_or_else(|_| panic!("the server stopped reading after {fed} bytes"))
            .unwrap();
        fed += piece.len();
        if landed() {
            return fed;
        }
    }
    while Instant::now() < deadline {
        if landed() {
            return fed;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("fed {fed} bytes but none reached the disk");
}

#[actix_web::test]
async fn kill_9_mid_upload_leaves_no_file_and_acknowledged_chunks_survive() {
    let data_dir = tempfile::tempdir().unwrap();
    let data = data_dir.path();
    let logs = tempfile::tempdir().unwrap();
    let out = yui(data)
        .args(["demo", "--password", PASSWORD, "--posts", "3"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(data, &logs.path().join("serve-1.log"));
    let c = client();
    login(&server, &c).await;
    let token = csrf(&c, &server.url("/rooms/town/files")).await;
    // The demo's sample files are there already; the uploads below must add nothing to them.
    let demo_blobs = entries(&data.join("blobs"));
    let demo_files: i64 = files::table.count().get_result(&mut open_db(data)).unwrap();
    assert!(entries(&data.join("tmp")).is_empty());

    // A resumable upload: the first chunk is acknowledged (fsynced, recorded).
    let res = c
        .post(server.url("/rooms/town/files/folder/0/uploads"))
        .header("x-csrf-token", &token)
        .form(&[
            ("name", "resumed.bin"),
            ("size", &RESUMABLE_SIZE.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let whole = content(RESUMABLE_SIZE, 0);
    let chunk_url = |s: &Server, offset: usize| {
        s.url(&format!("/rooms/town/files/uploads/{id}?offset={offset}"))
    };
    let res = c
        .put(chunk_url(&server, 0))
        .header("x-csrf-token", &token)
        .body(whole[..MB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["offset"], MB);

    // The second chunk is still arriving when the server dies.
    let part = data.join("uploads").join(format!("{id}.part"));
    let (chunk_tx, body) = open_stream();
    let chunk = tokio::spawn(
        c.put(chunk_url(&server, MB))
            .header("x-csrf-token", &token)
            .body(body)
            .send(),
    );
    let fed_chunk = feed_until(&chunk_tx, &whole[MB..RESUMABLE_SIZE - 1], || {
        len_of(&part) > MB as u64
    })
    .await;

    // A plain multipart upload, also still arriving.
    let (plain_tx, body) = open_stream();
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::stream(body).file_name("plain.bin"),
    );
    let plain = tokio::spawn(
        c.post(server.url(&format!("/rooms/town/files/folder/0/upload?_csrf={token}")))
            .multipart(form)
            .send(),
    );
    let tmp = data.join("tmp");
    feed_until(&plain_tx, &content(256 * MB, 1), || {
        entries(&tmp).iter().any(|p| len_of(p) > 0)
    })
    .await;

    server.kill_9();
    // Ending the bodies lets the clients notice that nobody is listening any more.
    drop((chunk_tx, plain_tx));
    for (what, request) in [("plain upload", plain), ("chunk", chunk)] {
        let answer = tokio::time::timeout(TIMEOUT, request)
            .await
            .unwrap()
            .unwrap();
        assert!(answer.is_err(), "the {what} got an answer: {answer:?}");
    }

    // Before the restart: a part file in tmp/, nothing committed, the acknowledged chunk recorded.
    let staged = entries(&tmp);
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert!(
        staged[0].extension().is_some_and(|e| e == "part"),
        "{staged:?}"
    );
    assert_eq!(entries(&data.join("blobs")), demo_blobs, "no new blob");
    let mut conn = open_db(data);
    let rows: i64 = files::table.count().get_result(&mut conn).unwrap();
    assert_eq!(rows, demo_files, "no new file row");
    let received: i64 = uploads::table
        .find(&id)
        .select(uploads::received)
        .first(&mut conn)
        .unwrap();
    assert_eq!(received, i64::try_from(MB).unwrap());
    drop(conn);
    let on_disk = len_of(&part);
    assert!(on_disk > MB as u64, "the part keeps what was written");

    // After the restart: tmp/ swept, the site answers, the upload resumes after the acknowledged
    // chunk (what the row records; the unacknowledged bytes were never fsynced nor recorded, and
    // the next chunk cuts them off, issue #10).
    let server = Server::start(data, &logs.path().join("serve-2.log"));
    assert!(entries(&tmp).is_empty(), "{:?}", entries(&tmp));
    for path in ["/healthz", "/", "/rooms/town/files"] {
        let res = c.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let status: serde_json::Value = c
        .get(server.url(&format!("/rooms/town/files/uploads/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offset = usize::try_from(status["offset"].as_u64().unwrap()).unwrap();
    assert_eq!(offset, MB, "{status} (fed {fed_chunk} more)");
    assert_eq!(status["size"], RESUMABLE_SIZE);
    let token = csrf(&c, &server.url("/rooms/town/files")).await;
    let res = c
        .put(chunk_url(&server, offset))
        .header("x-csrf-token", &token)
        .body(whole[offset..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["offset"],
        RESUMABLE_SIZE
    );
    let res = c
        .post(server.url(&format!("/rooms/town/files/uploads/{id}/finish")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let file_id = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    let mut conn = open_db(data);
    let stored: Vec<(String, String, i64)> = files::table
        .filter(files::name.eq("resumed.bin"))
        .select((files::name, files::blob_sha256, files::size))
        .load(&mut conn)
        .unwrap();
    let sha = sha_hex(&whole);
    assert_eq!(
        stored,
        [(
            "resumed.bin".to_owned(),
            sha.clone(),
            i64::try_from(RESUMABLE_SIZE).unwrap()
        )]
    );
    let got = c
        .get(server.url(&format!("/rooms/town/files/file/{file_id}/resumed.bin")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha_hex(&got), sha);
    let mut expected = demo_blobs.clone();
    expected.push(
        data.join("blobs")
            .join(&sha[..2])
            .join(&sha[2..4])
            .join(&sha),
    );
    expected.sort();
    let mut now_stored = entries(&data.join("blobs"));
    now_stored.sort();
    assert_eq!(now_stored, expected, "exactly one new blob");
    assert!(entries(&data.join("uploads")).is_empty());
    assert!(entries(&tmp).is_empty());
}
