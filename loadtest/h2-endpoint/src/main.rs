//! The push benchmark's FCM stand-in (`npm run bench -- push`): an HTTP/2 cleartext (h2c)
//! endpoint serving `POST /v1/projects/<project>/messages:send`, answering every request after
//! a fixed delay. It stands for Google's servers, whose CPU is not the push process's: it runs
//! on one thread and costs a few microseconds per request, so the push process gets the rest
//! of the machine. Requests without a bearer token, to another path or without a device token
//! in the body are answered 401/404/400 as FCM would.
//!
//! Usage: chorus-h2-endpoint DELAY_MS. Prints `{"port":N}`, then answers `stats` on stdin with
//! `{"answered":…,"open":…,"peakOpen":…,"byStatus":{…}}`; exits on `exit` or when stdin closes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Counters {
    answered: AtomicU64,
    open: AtomicU64,
    peak_open: AtomicU64,
    ok: AtomicU64,
    bad_request: AtomicU64,
    unauthorized: AtomicU64,
    not_found: AtomicU64,
}

impl Counters {
    fn json(&self) -> String {
        let by_status: Vec<String> = [
            ("200", &self.ok),
            ("400", &self.bad_request),
            ("401", &self.unauthorized),
            ("404", &self.not_found),
        ]
        .iter()
        .filter(|(_, n)| n.load(Ordering::Relaxed) > 0)
        .map(|(status, n)| format!("\"{status}\":{}", n.load(Ordering::Relaxed)))
        .collect();
        format!(
            "{{\"answered\":{},\"open\":{},\"peakOpen\":{},\"byStatus\":{{{}}}}}",
            self.answered.load(Ordering::Relaxed),
            self.open.load(Ordering::Relaxed),
            self.peak_open.load(Ordering::Relaxed),
            by_status.join(",")
        )
    }
}

fn main() {
    let delay_ms: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("DELAY_MS must be a whole number"))
        .unwrap_or(20);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(serve(Duration::from_millis(delay_ms)));
}

async fn serve(delay: Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    let counters = Arc::new(Counters::default());
    let mut stdout = tokio::io::stdout();
    stdout.write_all(format!("{{\"port\":{port}}}\n").as_bytes()).await.unwrap();
    stdout.flush().await.unwrap();

    let accepting = counters.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { continue };
            let _ = socket.set_nodelay(true);
            tokio::spawn(connection(socket, delay, accepting.clone()));
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match line.trim() {
            "stats" => {
                stdout.write_all(format!("{}\n", counters.json()).as_bytes()).await.unwrap();
                stdout.flush().await.unwrap();
            }
            "exit" => break,
            _ => {}
        }
    }
}

async fn connection(socket: TcpStream, delay: Duration, counters: Arc<Counters>) {
    let Ok(mut connection) = h2::server::Builder::new()
        .max_concurrent_streams(1000)
        .initial_window_size(1 << 20)
        .handshake::<_, Bytes>(socket)
        .await
    else {
        return;
    };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(answer(request, respond, delay, counters.clone()));
    }
}

fn fcm_error(status: StatusCode, code: &str, message: &str) -> String {
    format!(
        "{{\"error\":{{\"code\":{},\"message\":\"{message}\",\"status\":\"{code}\"}}}}",
        status.as_u16()
    )
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    delay: Duration,
    counters: Arc<Counters>,
) {
    let open = counters.open.fetch_add(1, Ordering::Relaxed) + 1;
    counters.peak_open.fetch_max(open, Ordering::Relaxed);

    let path = request.uri().path().to_owned();
    let project = path
        .strip_prefix("/v1/projects/")
        .and_then(|rest| rest.strip_suffix("/messages:send"))
        .map(str::to_owned);
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    let mut body = request.into_body();
    let mut received = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
    }
    tokio::time::sleep(delay).await;

    let (status, text) = match project {
        None => (StatusCode::NOT_FOUND, fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", "unknown path")),
        Some(_) if !bearer => (
            StatusCode::UNAUTHORIZED,
            fcm_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "no bearer token"),
        ),
        Some(_) if !received.windows(8).any(|w| w == b"\"token\":") => (
            StatusCode::BAD_REQUEST,
            fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "message.token missing"),
        ),
        Some(project) => {
            let n = counters.ok.load(Ordering::Relaxed) + 1;
            (StatusCode::OK, format!("{{\"name\":\"projects/{project}/messages/{n}\"}}"))
        }
    };
    let counter = match status {
        StatusCode::OK => &counters.ok,
        StatusCode::BAD_REQUEST => &counters.bad_request,
        StatusCode::UNAUTHORIZED => &counters.unauthorized,
        _ => &counters.not_found,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=UTF-8")
        .body(())
        .unwrap();
    if let Ok(mut stream) = respond.send_response(response, false) {
        let _ = stream.send_data(Bytes::from(text), true);
    }
    counters.answered.fetch_add(1, Ordering::Relaxed);
    counters.open.fetch_sub(1, Ordering::Relaxed);
}
